// Calls the fetch handler of examples/worker.mjs once and prints the response body.
const { default: worker } = await import(new URL('./worker.mjs', `file://${process.cwd()}/`).href);
const response = await worker.fetch(Object.assign(new Request('https://flags.example/?user=user-1'), { cf: { country: 'AT' } }));
console.log(response.headers.get('content-type'), await response.text());
