/** Wired to the projector's fold bench once it exists; see services/projector. */
export async function benchProjectorFold(_opts: { brokers: string; registryUrl: string }): Promise<void> {}
