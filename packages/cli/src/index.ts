export { Client, ApiError } from './client.js';
