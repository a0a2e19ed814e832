/**
 * `/model/<name>/…` in the local twin: the load balancer's listener rules pick the model's
 * serving task, and the request is passed to it as it came (streamed both ways).
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { LocalLoadBalancer } from './aws/local-load-balancer';
import { sendJson } from './gateway';

export function modelProxy(loadBalancer: LocalLoadBalancer) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const model = decodeURIComponent(path.split('/')[2] ?? '');
    const target = loadBalancer.route(path);
    if (!target) {
      req.resume();
      if (loadBalancer.claims(path)) {
        sendJson(res, 503, {
          error_code: 'TEMPORARILY_UNAVAILABLE',
          message: `Model '${model}' has no healthy serving task yet; retry shortly.`,
        });
      } else {
        sendJson(res, 404, {
          error_code: 'RESOURCE_DOES_NOT_EXIST',
          message: `Model '${model}' is not served: enable serving for it first.`,
        });
      }
      return;
    }
    await new Promise<void>((resolve) => {
      const upstream = httpRequest(
        `${target}${req.url ?? '/'}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.once('end', () => resolve());
        },
      );
      upstream.once('error', (error) => {
        if (!res.headersSent) {
          sendJson(res, 502, {
            error_code: 'TEMPORARILY_UNAVAILABLE',
            message: `Serving task unreachable: ${error.message}`,
          });
        } else res.destroy();
        resolve();
      });
      req.pipe(upstream);
    });
  };
}
