// Typeset the formulas that pymdownx.arithmatex (generic mode) marks: inline
// <span class="arithmatex">\(...\)</span> and display <div class="arithmatex">\[...\]</div>.
// Only those elements are touched, so a "$" in prose or code is never read as math.
// document$ is Material for MkDocs' page observable: it also fires after instant navigation.
document$.subscribe(({ body }) => {
  for (const element of body.querySelectorAll(".arithmatex")) {
    const source = element.textContent.trim();
    const display = source.startsWith("\\[");
    katex.render(source.slice(2, -2), element, {
      displayMode: display,
      throwOnError: false,
    });
  }
});
