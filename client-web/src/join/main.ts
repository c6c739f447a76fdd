/** The join page (placeholder until the browser participant lands). */
const app = document.getElementById('app');
if (app) app.textContent = 'Mutua: join a federation';
