// One stack of short messages for both pages: errors must be seen but never block a tap.

let stack = null;

function container() {
  if (!stack) {
    stack = document.createElement("div");
    stack.className = "toasts";
    stack.setAttribute("role", "status");
    stack.setAttribute("aria-live", "polite");
    document.body.append(stack);
  }
  return stack;
}

export function toast(message, kind = "info", ms = 2600) {
  const el = document.createElement("div");
  el.className = `toast toast-${kind}`;
  el.textContent = message;
  container().append(el);
  // Repeated identical errors (a flood of rate limits) would pile up; keep the last few.
  while (stack.children.length > 3) stack.firstElementChild.remove();
  setTimeout(() => el.classList.add("toast-out"), ms);
  setTimeout(() => el.remove(), ms + 400);
}
