// wg.io: safetensors and checkpoints.
export { parseSafetensors, serializeSafetensors, type StoredTensor, type SafetensorsLimits } from "./safetensors.js";
// issue 17: one tensor at a time from a file's bytes or a byte-range reader (sharded and larger-than-memory weights)
export { SafetensorsFile, type SafetensorsEntry, type ByteRangeReader } from "./safetensors.js";
export { saveSafetensors, loadSafetensors, saveCheckpoint, loadCheckpoint } from "./checkpoint.js";
export { writeFileAtomic, readFileBytes, removeFile, defaultStore, type FileStore } from "./files.js";
