/** A tiny hash router: `#/` is the runs page, `#/runs/<id>` a run's detail, `#/models` the models page, `#/new` the New experiment form. */
export type Route = { readonly name: 'runs' } | { readonly name: 'models' } | { readonly name: 'new' } | { readonly name: 'run'; readonly runId: number } | { readonly name: 'not-found'; readonly hash: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/\/+$/, '');
  if (path === '' || path === '/' || path === '/runs') return { name: 'runs' };
  if (path === '/models') return { name: 'models' };
  if (path === '/new') return { name: 'new' };
  const m = /^\/runs\/(\d{1,15})$/.exec(path);
  if (m && m[1] !== undefined) {
    const runId = Number(m[1]);
    if (Number.isSafeInteger(runId) && runId > 0) return { name: 'run', runId };
  }
  return { name: 'not-found', hash };
}

export function routeHash(route: Route): string {
  switch (route.name) {
    case 'runs':
      return '#/';
    case 'run':
      return `#/runs/${route.runId}`;
    case 'models':
      return '#/models';
    case 'new':
      return '#/new';
    default:
      return route.hash;
  }
}
