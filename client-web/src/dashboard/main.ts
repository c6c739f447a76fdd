/** The coordinator dashboard (placeholder until the dashboard lands). */
const app = document.getElementById('app');
if (app) app.textContent = 'Mutua dashboard';
