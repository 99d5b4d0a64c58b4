// wg.data: datasets, loaders, readers and transforms.
export { ArrayDataset, DataLoader, type DataLoaderOptions, type Batch } from "./loader.js";
export { loadMnistPackage, loadIdx, parseIdx, type ImageSet } from "./mnist.js";
export { randomAffine, normalize, shuffled, type AffineAugment } from "./transforms.js";
