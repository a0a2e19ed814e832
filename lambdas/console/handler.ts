/**
 * Lambda entry: the web console's files behind API Gateway (`GET /`, `GET /assets/{proxy+}`).
 * The deployment builds the console into a folder beside this bundle (BUNDLED_SITE_FOLDER);
 * its files are read once, at cold start.
 */
import { fileURLToPath } from 'node:url';
import { createConsoleHandler } from './app';
import { BUNDLED_SITE_FOLDER, StaticSite } from './static-site';

export const handler = createConsoleHandler(
  await StaticSite.load(fileURLToPath(new URL(`./${BUNDLED_SITE_FOLDER}/`, import.meta.url))),
);
