import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebConsole } from '../../infra/constructs/web-console';
import { nagFindings } from '../helpers/nag';

/** A stack holding a REST API with the web console on it. */
function consoleStack(app: App) {
  const stack = new Stack(app, 'Site', { env: { account: '123456789012', region: 'eu-west-1' } });
  const api = new RestApi(stack, 'Api', { deployOptions: { stageName: 'prod' } });
  const webConsole = new WebConsole(stack, 'Console', { api });
  return { stack, api, webConsole };
}

interface MethodResource {
  Properties: {
    HttpMethod: string;
    ResourceId: unknown;
    AuthorizationType: string;
    ApiKeyRequired?: boolean;
    Integration: { Type: string; Uri: unknown };
  };
}

let outdir: string;
let template: Template;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'mlserve-console-'));
  const app = new App({ outdir });
  const { stack } = consoleStack(app);
  const assembly = app.synth();
  template = Template.fromJSON(assembly.getStackByName(stack.stackName).template);
}, 120_000);

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

describe('WebConsole', () => {
  it('serves GET / and GET /assets/{proxy+} with no authorizer and no API key, through its function', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as MethodResource[];
    expect(methods).toHaveLength(2);
    const [fn] = Object.keys(template.findResources('AWS::Lambda::Function'));
    for (const m of methods) {
      expect(m.Properties).toMatchObject({ HttpMethod: 'GET', AuthorizationType: 'NONE', ApiKeyRequired: false });
      expect(m.Properties.Integration.Type).toBe('AWS_PROXY');
      expect(JSON.stringify(m.Properties.Integration.Uri)).toContain(fn);
    }
    const [apiId] = Object.keys(template.findResources('AWS::ApiGateway::RestApi'));
    const roots = methods.filter(
      (m) => JSON.stringify(m.Properties.ResourceId) === JSON.stringify({ 'Fn::GetAtt': [apiId, 'RootResourceId'] }),
    );
    expect(roots).toHaveLength(1);
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'assets' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', {
      PathPart: '{proxy+}',
      ParentId: { Ref: Match.stringLikeRegexp('^Apiassets') },
    });
  });

  it('runs on a Node 22 arm64 function with tracing and its own log group', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
      MemorySize: 256,
      LoggingConfig: Match.objectLike({ LogGroup: Match.anyValue() }),
    });
  });

  it('bundles the built console beside the handler, and the bundle serves it', async () => {
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Code: { S3Key: string } };
    }[];
    const bundle = path.join(outdir, `asset.${fn?.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
    const index = path.join(bundle, 'console/index.html');
    expect(existsSync(path.join(bundle, 'index.mjs'))).toBe(true);
    expect(existsSync(index)).toBe(true);
    const { handler } = (await import(pathToFileURL(path.join(bundle, 'index.mjs')).href)) as {
      handler: (event: unknown, context: unknown) => Promise<APIGatewayProxyResult>;
    };
    const get = (urlPath: string) =>
      handler({ httpMethod: 'GET', path: urlPath, headers: {} }, { awsRequestId: 'test', functionName: 'console' });
    const page = await get('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers?.['Content-Type']).toBe('text/html; charset=utf-8');
    expect(page.body).toBe(readFileSync(index, 'utf8'));
    const script = /src="(assets\/[^"]+\.js)"/.exec(page.body)?.[1] as string;
    expect((await get(`/${script}`)).statusCode).toBe(200);
    expect((await get('/assets/../index.mjs')).statusCode).toBe(404);
  }, 30_000);

  it('acknowledges AwsSolutions-APIG4 and COG4 on exactly its two public methods, with a reason', () => {
    const { api, webConsole } = consoleStack(new App());
    const acknowledged = api.node
      .findAll()
      .filter((c) =>
        c.node.metadata.some(
          (m) =>
            m.type === 'aws:cdk:acknowledged-rules' &&
            Object.keys(m.data as object).some((id) => /APIG4|COG4/.test(id)) &&
            Object.values(m.data as Record<string, string>).every((reason) => /public/i.test(reason)),
        ),
      );
    expect(acknowledged.map((c) => c.node.path).sort()).toEqual(
      [webConsole.pageMethod.node.path, webConsole.assetsMethod.node.path].sort(),
    );
  });

  it("passes cdk-nag's AWS Solutions and Serverless checks for its function and methods", () => {
    expect(
      nagFindings(
        (app) => {
          consoleStack(app);
        },
        ['/Console/', '/Api/Default/'],
        (app) => [new AwsSolutionsChecks(app), new ServerlessChecks(app)],
      ),
    ).toEqual([]);
  }, 120_000);
});
