// wg.data: datasets, loaders, readers and transforms.
export { ArrayDataset, DataLoader, type DataLoaderOptions, type Batch } from "./loader.js";
export { loadMnistPackage, loadIdx, parseIdx, type ImageSet } from "./mnist.js";
export { randomAffine, normalize, shuffled, type AffineAugment } from "./transforms.js";
export { isGzip, gunzipBytes, parseIdxPair, loadFashionMnist, FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, FASHION_MNIST_MEAN, FASHION_MNIST_STD } from "./mnist.js";
export { hflip, randomCropPad, resizeBilinear, toTensorChw, normalizeChannels } from "./transforms.js";
export { decodeImage, readImageFolder, imagesFromFiles, imageFolderDataset, writeFashionMnistFolder, defaultFashionFolder, FASHION_FOLDER_CLASSES, type DecodedImage, type LabelledImages, type ImageFolderOptions, type FashionFolderOptions } from "./folder.js";
export { readFortunes, parseFortunes, readText, stripAnsi, CharVocab } from "./text.js";
