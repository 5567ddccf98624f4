// npm run bench:fold — only the projector fold bench (bench/projector.ts), e.g. under
// `node --cpu-prof` to see where the fold's time goes without the pipeline around it.
import { benchInfra, writeBenchJson } from './env.js';
import { benchProjectorFold } from './projector.js';
import { printTargets } from './targets.js';

const infra = await benchInfra();
await benchProjectorFold({ brokers: infra.brokers, registryUrl: infra.registryUrl });
printTargets();
writeBenchJson();
await infra.stop();
