/**
 * Why a frame from the other side of a sync connection was refused. Each subclass
 * carries the WebSocket close code the relay ends that connection with, so that a
 * client can tell a bug from a policy without matching message text.
 */
export abstract class ProtocolError extends Error {
  /** WebSocket close code (4000-4999, private use) that goes with this error. */
  abstract readonly closeCode: number;
}

/** The frame is not CBOR, or is empty, or is a text frame. */
export class InvalidCborError extends ProtocolError {
  override readonly name = "InvalidCborError";
  readonly closeCode = CloseCode.InvalidMessage;
}

/** The frame decoded, but is not a message of the protocol (wrong type, field or shape). */
export class InvalidMessageError extends ProtocolError {
  override readonly name = "InvalidMessageError";
  readonly closeCode = CloseCode.InvalidMessage;

  constructor(
    message: string,
    /** The message's `type` when it had a string one (truncated), for logs and metrics. */
    readonly messageType?: string,
  ) {
    super(message);
  }
}

/** A document, peer or storage ID that is not a string of the expected form. */
export class InvalidIdError extends ProtocolError {
  override readonly name = "InvalidIdError";
  readonly closeCode = CloseCode.InvalidId;

  constructor(
    /** Which field held it: `documentId`, `senderId`, `targetId`, `storageId`... */
    readonly field: string,
  ) {
    super(`invalid ${field}`);
  }
}

/** A join that offers no protocol version we speak. */
export class UnsupportedProtocolVersionError extends ProtocolError {
  override readonly name = "UnsupportedProtocolVersionError";
  readonly closeCode = CloseCode.UnsupportedProtocolVersion;

  constructor(
    /** The versions offered (strings only, at most a few). */
    readonly offered: string[],
    /** Who offered them, when known: the error message is addressed to it. */
    readonly senderId?: string,
  ) {
    super("unsupported protocol version");
  }
}

/**
 * Close codes of the relay protocol. 1000-1015 are the standard ones (1009: frame too
 * large, sent by `ws` itself); 4000-4999 are ours. The reason text says more.
 */
export const CloseCode = {
  /** The relay is shutting down (standard "going away"). */
  GoingAway: 1001,
  /** Sync must start over (standard "service restart"): a document worker holding this connection's documents restarted. */
  ServiceRestart: 1012,
  /** A frame over the size limit (standard; `ws` closes with it on its own). */
  MessageTooBig: 1009,
  /** The token was revoked, or expired, while connected (the reason says which). */
  Unauthorized: 4001,
  /** Not CBOR, or not a message of the protocol. */
  InvalidMessage: 4002,
  /** The join offered no protocol version the relay speaks. */
  UnsupportedProtocolVersion: 4003,
  /** A document, peer or storage ID that is not acceptable. */
  InvalidId: 4004,
  /** The join used a peer ID that another live connection holds. */
  PeerIdInUse: 4005,
  /** A message claiming to come from another peer than the one that joined. */
  SenderMismatch: 4006,
  /** A second join, or a message before the join. */
  UnexpectedJoin: 4007,
  /** No valid join within the time allowed. */
  JoinTimeout: 4008,
  /** More documents on one connection than allowed. */
  TooManyDocuments: 4009,
  /** A joined connection that sent nothing for longer than the idle timeout (reconnect when there is something to say). */
  Idle: 4010,
  /** The relay held more bytes on the connection's behalf than its budget allows, for too long. */
  OverBudget: 4011,
  /** A relay of a cluster lost the cluster's bus (NATS): reconnect, through the load balancer, to one that has it. */
  ClusterUnavailable: 4012,
  /** Far more messages than the rate allowed, even after throttling. */
  RateLimited: 4029,
} as const;
