import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, type NagPack } from 'cdk-nag';

/**
 * Synthesizes what `build` puts into a fresh app under cdk-nag's AWS Solutions checks (or the
 * `packs` given) and returns the unacknowledged findings (`rule constructPath`) on constructs
 * whose path contains `under` (or one of them), so a construct's test judges only its own
 * resources, not the scaffolding around them.
 */
export function nagFindings(
  build: (app: App) => void,
  under: string | readonly string[],
  packs: (app: App) => NagPack[] = (app) => [new AwsSolutionsChecks(app)],
): string[] {
  const scopes = ([] as string[]).concat(under);
  const outdir = mkdtempSync(path.join(tmpdir(), 'mlserve-nag-'));
  try {
    const app = new App({ outdir });
    build(app);
    Validations.of(app).addPlugins(...packs(app));
    try {
      app.synth();
    } catch {
      // the report says what failed
    }
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations?: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
    };
    return report.pluginReports
      .flatMap((r) => r.violations ?? [])
      .flatMap((v) =>
        v.violatingConstructs
          .filter((c) => scopes.some((scope) => c.constructPath.includes(scope)))
          .map((c) => `${v.ruleName} ${c.constructPath}`),
      );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
