export {
  CloseCode,
  InvalidCborError,
  InvalidIdError,
  InvalidMessageError,
  ProtocolError,
  UnsupportedProtocolVersionError,
} from "./errors";
export { PeerBinding, type Refusal } from "./binding";
export { isDocumentId, isPeerId, isStorageId } from "./ids";
export * as limits from "./limits";
export { encodeMessage, isRepoWireMessage, parseMessage, parseValue, PROTOCOL_VERSION } from "./messages";
export type {
  DocUnavailableMessage,
  EphemeralMessage,
  ErrorMessage,
  JoinMessage,
  PeerMessage,
  RemoteHeadsChangedMessage,
  RemoteSubscriptionChangeMessage,
  RepoWireMessage,
  RequestMessage,
  SyncMessage,
  WireMessage,
  WirePeerMetadata,
} from "./messages";
