export { documentSizeOnDisk, FileStorageAdapter } from "./FileStorageAdapter";
export type { CorruptionReport, FileStorageOptions } from "./FileStorageAdapter";
export { DirectoryLockedError, InvalidStorageKeyError, StorageNotDurableError, StorageUnavailableError, StorageWriteError } from "./errors";
export { RetryingStorage } from "./RetryingStorage";
export type { RetryingStorageOptions, SaveFailure } from "./RetryingStorage";
export { TrackedStorage } from "./TrackedStorage";
export { StorageStack } from "./stack";
export type { ChunkBackend, StorageBackend, StorageStackOptions } from "./stack";
