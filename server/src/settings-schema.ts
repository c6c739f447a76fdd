/**
 * JSON schema of the federation settings accepted by the admin API (and shown in the
 * OpenAPI document). Cross-field rules live in engine/settings.ts resolveSettings().
 */
export const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    task: {
      type: 'object',
      additionalProperties: false,
      properties: {
        inputShape: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, maxItems: 4 },
        numClasses: { type: 'integer', minimum: 2, maximum: 65536 },
        labelNames: { type: 'array', items: { type: 'string', maxLength: 200 } },
      },
    },
    strategy: {
      type: 'string',
      enum: ['mutual', 'fedavg'],
      description: 'mutual distillation (default) or the FedAvg baseline',
    },
    mode: { type: 'string', enum: ['sync', 'async'] },
    temperature: { type: 'number', exclusiveMinimum: 0, description: 'distillation temperature T' },
    lambda: { type: 'number', minimum: 0, description: 'weight of the mutual KL term' },
    aggregation: { type: 'string', enum: ['mean', 'entropy', 'era', 'median', 'trimmed-mean'] },
    trimFraction: { type: 'number', minimum: 0, exclusiveMaximum: 0.5 },
    eraTemperature: { type: 'number', exclusiveMinimum: 0 },
    batchSize: { type: 'integer', minimum: 1, maximum: 100000, description: 'public samples per task' },
    encodings: {
      type: 'array',
      items: { type: 'string', enum: ['float32', 'float16', 'uint8', 'topk'] },
      minItems: 1,
      uniqueItems: true,
      description: 'accepted upload encodings, preferred first',
    },
    topk: { type: 'integer', minimum: 1 },
    sync: {
      type: 'object',
      additionalProperties: false,
      properties: {
        quorum: { type: 'integer', minimum: 0, description: '0 = every online participant' },
        deadlineMs: { type: 'integer', minimum: 0, description: '0 = no deadline' },
        minParticipants: { type: 'integer', minimum: 1 },
      },
    },
    async: {
      type: 'object',
      additionalProperties: false,
      properties: {
        bufferK: { type: 'integer', minimum: 1, description: 'contributions per consensus version' },
        stalenessExponent: { type: 'number', minimum: 0, description: 'weight (1 + tau)^-a' },
        maxStaleness: { type: 'integer', minimum: 0 },
      },
    },
    localEpochs: { type: 'integer', minimum: 1, maximum: 1000 },
    participantLimit: { type: 'integer', minimum: 1 },
    modelArch: { type: 'string', maxLength: 100 },
    seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
    weightEncoding: {
      type: 'string',
      enum: ['float32', 'float16', 'uint8'],
      description:
        'fedavg: how weights travel both ways: float32, float16, or uint8 (8 bits per weight with a scale and offset per tensor)',
    },
  },
} as const;
