/**
 * @mutua/proto/rest: the coordinator's HTTP API, declared once. Each schema is a TypeBox
 * value (JSON Schema the server validates and documents with) and a type of the same
 * name (what the server returns and the dashboard reads), so the two cannot drift.
 * The browser imports types only: TypeBox stays out of its bundle.
 */
export {
  type DataFormatErrorCode,
  ErrorResponse,
  HTTP_ERRORS,
  type HttpErrorCode,
  type HttpErrorPolicy,
  httpCodeOfProtocol,
  httpStatusOf,
  isDataFormatErrorCode,
  type RegisteredHttpErrorCode,
} from './errors.ts';
export {
  CreateFederationBody,
  FEDERATION_STATUSES,
  type FederationStatus,
  FederationView,
  PublicSetRef,
} from './federations.ts';
export { JoinInfo, JoinParams } from './join.ts';
export { ParticipantParams, ParticipantView, TrafficView } from './participants.ts';
export {
  BUILTIN_DATASETS,
  type BuiltinDataset,
  BuiltinSlice,
  PublicSetParams,
  PublicSetView,
  UPLOAD_FORMATS,
  UploadQuery,
} from './public-sets.ts';
export { MetricsQuery, MetricView, RoundsQuery, RoundView } from './rounds.ts';
export { FederationParams, Nullable, PRINTABLE_PATTERN, PrintableText, StringEnum } from './schema.ts';
export { SettingsInput, SettingsView, TaskView } from './settings.ts';
export {
  ConsensusTargetsQuery,
  ConsensusTargetsView,
  MAX_STUDENT_BYTES,
  MAX_TARGET_VERSIONS,
  StudentInfo,
  StudentUploadBody,
  StudentView,
} from './student.ts';
export { IssuedToken, IssueTokenBody, TokenParams, TokenView } from './tokens.ts';
