// Shapes of the pipeline API taken from the generated paths (the routes' schemas are inline,
// not components), so they follow /openapi.json like every call.
import type { paths } from './schema';

export type Pipeline = paths['/v1/pipelines/{id}']['get']['responses'][200]['content']['application/json'];
export type NewPipeline = NonNullable<paths['/v1/pipelines']['post']['requestBody']>['content']['application/json'];
export type ActionBody = NonNullable<paths['/v1/pipelines/{id}/actions']['post']['requestBody']>['content']['application/json'];
export type ActionPatch = NonNullable<paths['/v1/actions/{id}']['patch']['requestBody']>['content']['application/json'];
export type Run = paths['/v1/actions/{id}/runs/{run_id}']['get']['responses'][200]['content']['application/json'];
