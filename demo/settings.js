// Constants the page, its worker and test/e2e/demo.test.ts share.

/** MNIST's pixel mean and std (host/zoo/mnist-cnn.ts: MNIST_MEAN, MNIST_STD). */
export const MNIST_MEAN = 0.1307, MNIST_STD = 0.3081;
/** The zoo recipe's augmentation (host/zoo/mnist-cnn.ts: MNIST_AUGMENT): drawn digits are never as tidy as MNIST's. */
export const MNIST_AUGMENT = { degrees: 8, scale: [0.92, 1.08], translate: 0.06 };
/** Digits held out for testing, and the seed that picks them (host/zoo/mnist-cnn.ts: splitHoldout). */
export const HOLDOUT = 2000, HOLDOUT_SEED = 1234;
/** Where the weights are saved in the browser's store (origin private file system or IndexedDB). */
export const CHECKPOINT = "webgrad-demo/mnist-cnn.safetensors";
