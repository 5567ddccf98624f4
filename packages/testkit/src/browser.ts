/** What `launchChromium` needs of playwright-core's `chromium`; structural, so testkit does not depend on it. */
export interface ChromiumLauncher<B> {
  launch(options: { executablePath: string; args: string[] }): Promise<B>;
}

/**
 * Headless Chromium for the dashboard specs: the machine's /usr/bin/chromium (playwright-core brings
 * no browser of its own), without the sandbox and the background services a test does not need.
 * The spec passes playwright-core's `chromium`, so only the specs that drive a browser load it and
 * the packages that ship (testkit is a workspace package) do not gain it as a dependency.
 */
export function launchChromium<B>(chromium: ChromiumLauncher<B>): Promise<B> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
