import { productHandler } from './_product.js';

/** product.created (see _product.ts). */
export default productHandler('product.created');
