// Auth lives in @preflight/auth; the projector's modules (and its `./auth` export) read it from here.
export * from '@preflight/auth';
