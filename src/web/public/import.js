// The import page: the chosen file's text goes into the form (a urlencoded post like every
// other form of the console), its name beside it.
(() => {
  'use strict';
  const input = document.querySelector('[data-import-file]');
  const content = document.querySelector('[data-import-content]');
  const name = document.querySelector('[data-import-name]');
  if (!input || !content || !name) return;
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    content.value = await file.text();
    name.value = file.name;
  });
})();
