import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../../common/auth/scopes.decorator';
import { notFound } from '../../common/errors/api-error';
import { securePageHeaders, VendorAssets } from '../static-assets';
import { buildOpenApiDocument, OpenApiDocument } from './openapi-document';

const SWAGGER_UI_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CAMARA WebRTC gateway: API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-initializer.js"></script>
</body>
</html>
`;

const SWAGGER_INIT_JS = `window.onload = function () {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null, tryItOutEnabled: false });
};
`;

const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SWAGGER_UI = new VendorAssets({
  'swagger-ui-bundle.js': { module: 'swagger-ui-dist/swagger-ui-bundle.js', type: 'text/javascript; charset=utf-8' },
  'swagger-ui.css': { module: 'swagger-ui-dist/swagger-ui.css', type: 'text/css; charset=utf-8' },
  'favicon-32x32.png': { module: 'swagger-ui-dist/favicon-32x32.png', type: 'image/png' },
});

/** `GET /openapi.json` and a Swagger UI at `/docs`, with every asset served locally (air-gapped sites). */
@Controller()
@Public()
export class OpenApiController {
  private document: OpenApiDocument | undefined;

  @Get('openapi.json')
  @Header('cache-control', 'no-cache')
  openApi(): OpenApiDocument {
    this.document ??= buildOpenApiDocument();
    return this.document;
  }

  @Get('docs')
  page(@Res({ passthrough: true }) reply: FastifyReply): string {
    securePageHeaders(reply, DOCS_CSP);
    void reply.header('content-type', 'text/html; charset=utf-8');
    return SWAGGER_UI_HTML;
  }

  @Get('docs/:file')
  async asset(@Param('file') file: string, @Res() reply: FastifyReply): Promise<void> {
    if (file === 'swagger-initializer.js') {
      void reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(SWAGGER_INIT_JS);
      return;
    }
    if (!(await SWAGGER_UI.send(reply, file))) throw notFound(`No documentation asset ${file.slice(0, 100)}.`);
  }
}
