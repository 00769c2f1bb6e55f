// esbuild bundles imported CSS into assets/app-[hash].css.
declare module "*.css";
