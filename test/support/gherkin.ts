import { readFileSync } from 'node:fs';
import { AstBuilder, GherkinClassicTokenMatcher, Parser } from '@cucumber/gherkin';
import { IdGenerator } from '@cucumber/messages';
import { afterEach, describe, it } from 'vitest';

/**
 * Executable Gherkin inside vitest: each Scenario becomes one vitest test, so scenarios are
 * counted, reported and run like every other test. Steps match by their text (Given/When/Then/And
 * are interchangeable, as in Cucumber); a step without a definition fails the scenario.
 */
export type StepFn<W> = (world: W, ...args: string[]) => Promise<void>;

export class Steps<W> {
  private readonly defs: Array<{ pattern: RegExp; fn: StepFn<W> }> = [];

  define(pattern: string | RegExp, fn: StepFn<W>): this {
    const re = typeof pattern === 'string' ? new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\{string\\\}/g, '"([^"]*)"')}$`) : pattern;
    this.defs.push({ pattern: re, fn });
    return this;
  }

  find(text: string): { fn: StepFn<W>; args: string[] } {
    const matches = this.defs.flatMap((d) => {
      const m = d.pattern.exec(text);
      return m ? [{ fn: d.fn, args: m.slice(1) }] : [];
    });
    if (matches.length === 0) throw new Error(`undefined step: "${text}"`);
    if (matches.length > 1) throw new Error(`ambiguous step: "${text}" matches ${matches.length} definitions`);
    return matches[0]!;
  }
}

export interface FeatureOptions<W> {
  steps: Steps<W>;
  world: () => Promise<W>;
  dispose: (world: W) => Promise<void>;
  timeoutMs?: number;
}

export function runFeature<W>(path: string | URL, options: FeatureOptions<W>): void {
  const text = readFileSync(path, 'utf8');
  const parser = new Parser(new AstBuilder(IdGenerator.uuid()), new GherkinClassicTokenMatcher());
  const doc = parser.parse(text);
  const feature = doc.feature;
  if (!feature) throw new Error(`${String(path)}: no Feature`);
  describe(`Feature: ${feature.name}`, () => {
    const worlds: W[] = [];
    afterEach(async () => {
      while (worlds.length) await options.dispose(worlds.pop()!);
    });
    // A Background's steps run before each scenario's own, as in Cucumber.
    const background = feature.children.flatMap((c) => c.background?.steps ?? []);
    for (const child of feature.children) {
      const scenario = child.scenario;
      if (!scenario) continue;
      // Resolve every step up front, so a missing definition fails loudly, not half-way.
      const steps = [...background, ...scenario.steps].map((s) => ({ keyword: s.keyword.trim(), text: s.text, ...options.steps.find(s.text) }));
      it(
        `Scenario: ${scenario.name}`,
        async () => {
          const world = await options.world();
          worlds.push(world);
          for (const step of steps) {
            try {
              await step.fn(world, ...step.args);
            } catch (e) {
              const err = e as Error;
              err.message = `${step.keyword} ${step.text}\n  → ${err.message}`;
              throw err;
            }
          }
        },
        options.timeoutMs ?? 120_000,
      );
    }
  });
}
