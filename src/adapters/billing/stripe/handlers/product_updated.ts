import { productHandler } from './_product.js';

/** product.updated (see _product.ts). */
export default productHandler('product.updated');
