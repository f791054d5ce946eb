// swagger-ui-dist ships no type declarations; this is the part of its
// API the docs view uses.
declare module 'swagger-ui-dist/swagger-ui-es-bundle.js' {
  interface SwaggerRequest { url: string; credentials?: RequestCredentials; headers: Record<string, string> }
  interface SwaggerOptions {
    domNode: HTMLElement;
    url: string;
    deepLinking?: boolean;
    docExpansion?: 'list' | 'full' | 'none';
    defaultModelsExpandDepth?: number;
    displayRequestDuration?: boolean;
    filter?: boolean;
    persistAuthorization?: boolean;
    tryItOutEnabled?: boolean;
    withCredentials?: boolean;
    requestInterceptor?: (req: SwaggerRequest) => SwaggerRequest;
  }
  const SwaggerUIBundle: (options: SwaggerOptions) => unknown;
  export default SwaggerUIBundle;
}
