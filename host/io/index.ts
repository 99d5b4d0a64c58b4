// wg.io: safetensors and checkpoints.
export { parseSafetensors, serializeSafetensors, type StoredTensor, type SafetensorsLimits } from "./safetensors.js";
export { saveSafetensors, loadSafetensors, saveCheckpoint, loadCheckpoint } from "./checkpoint.js";
export { writeFileAtomic, readFileBytes, removeFile, defaultStore, type FileStore } from "./files.js";
