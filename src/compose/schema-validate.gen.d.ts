// Types of the generated validator (schema-validate.gen.js, ajv standalone code).
import type { ValidateFunction } from 'ajv';

export declare const validate: ValidateFunction;
export default validate;
