// A small static file server for the browser tests, benchmarks and demo: serves this package's
// directory on the loopback address with the headers that make a page cross-origin isolated
// (which SharedArrayBuffer needs). No network beyond 127.0.0.1.
//
//   /<path>                              a file of the package, isolated (COOP + COEP + CORP)
//   /node_modules/graceful-threads/<p>   the same file, as a page that installed the package sees it
//   /open/<path>                         the same files without the isolation headers
//   /csp/<path>                          the same files, isolated, under a Content-Security-Policy
//                                        that forbids blob: workers (worker-src 'self')
//   /hang                                a request answered only when the server closes
//
//   node scripts/serve.mjs [port] [path]  serves until stopped, printing the URL of path
//                                         (npm run demo:web: the web demo, examples/web/)
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.css': 'text/css',
  '.png': 'image/png',
  '.ts': 'text/plain; charset=utf-8',
};

const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * Starts the server on 127.0.0.1 (`port` 0: any free one).
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function startServer({ port = 0, dir = root } = {}) {
  const hanging = new Set();
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    let path = decodeURIComponent(url.pathname);
    if (path === '/hang') {
      hanging.add(response);
      response.on('close', () => hanging.delete(response));
      return;
    }
    const isolated = !path.startsWith('/open/');
    if (!isolated) path = path.slice('/open'.length);
    const strict = path.startsWith('/csp/');
    if (strict) path = path.slice('/csp'.length);
    path = path.replace(/^\/node_modules\/graceful-threads\//, '/');
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(dir, path));
    const headers = {
      'cache-control': 'no-store',
      ...(isolated ? ISOLATION : {}),
      ...(strict ? { 'content-security-policy': "worker-src 'self'" } : {}),
    };
    let size;
    try {
      if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) throw new Error('outside');
      size = statSync(file).isFile() ? statSync(file).size : undefined;
    } catch {}
    if (size === undefined) {
      response.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    response.writeHead(200, {
      ...headers,
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': size,
    });
    createReadStream(file).pipe(response);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: bound } = server.address();
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise((resolve) => {
        for (const response of hanging) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startServer({ port: Number(process.argv[2] ?? 8080) });
  console.log(`Serving ${root} cross-origin isolated (Ctrl-C to stop): open ${url}${process.argv[3] ?? '/'}`);
}
