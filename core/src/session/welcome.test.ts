import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WelcomeInit } from '@mutua/proto';
import { parseWelcome, type SessionWelcome } from './welcome.ts';

const expect = {
  inputShape: [4],
  numClasses: 3,
  encodings: ['float32', 'float16', 'uint8', 'topk'] as const,
};

function fedavgWelcome(extra: Partial<WelcomeInit>): SessionWelcome {
  const w = parseWelcome(
    {
      participantId: 'p',
      federation: {
        task: { inputShape: [4], numClasses: 3 },
        strategy: 2,
        mode: 1,
        temperature: 1,
        modelArch: 'mlp',
      },
      ...extra,
    },
    expect,
  );
  assert.ok(!(w instanceof Error), String(w));
  return w as SessionWelcome;
}

describe('parseWelcome: the fedavg weight encoding', () => {
  it("is the coordinator's weight_encoding when it sends one", () => {
    assert.equal(fedavgWelcome({ weightEncoding: 5, uploadEncoding: 2 }).weightEncoding, 'uint8');
    assert.equal(fedavgWelcome({ weightEncoding: 2 }).weightEncoding, 'float16');
    assert.equal(fedavgWelcome({ weightEncoding: 1, uploadEncoding: 2 }).weightEncoding, 'float32');
  });

  it('from a coordinator that predates it: float16 when upload_encoding is float16, else float32', () => {
    assert.equal(fedavgWelcome({ uploadEncoding: 2 }).weightEncoding, 'float16');
    assert.equal(fedavgWelcome({ uploadEncoding: 3 }).weightEncoding, 'float32');
    // ENCODING_UINT8 (3) is the prediction layout, never a weight encoding.
    assert.equal(fedavgWelcome({ weightEncoding: 3, uploadEncoding: 3 }).weightEncoding, 'float32');
  });
});

describe('parseWelcome: distill_epochs', () => {
  it("is the coordinator's value, and 0 from a coordinator that does not send it", () => {
    const w = (federation: Partial<NonNullable<WelcomeInit['federation']>>) => {
      const parsed = parseWelcome(
        {
          participantId: 'p',
          federation: {
            task: { inputShape: [4], numClasses: 3 },
            // fedavg needs no public set here; the field is parsed the same for either strategy.
            strategy: 2,
            mode: 1,
            temperature: 3,
            modelArch: 'mlp',
            ...federation,
          },
        },
        expect,
      );
      assert.ok(!(parsed instanceof Error), String(parsed));
      return (parsed as SessionWelcome).federation.distillEpochs;
    };
    assert.equal(w({ distillEpochs: 2 }), 2);
    assert.equal(w({}), 0);
  });
});
