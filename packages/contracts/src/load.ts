import { readFileSync } from 'node:fs';
import { parseContract, type DataContract } from './contract.js';

export function loadContractFile(path: string): DataContract {
  return parseContract(readFileSync(path, 'utf8'));
}
