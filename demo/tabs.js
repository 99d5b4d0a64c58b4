// The page's two tabs: the digits (demo/app.js) and the chat (demo/chat.js,
// whose worker starts only when its tab is first opened). #chat in the
// address opens the chat tab directly.

import { startChat } from "./chat.js";

const tabs = { digits: document.getElementById("tab-digits"), chat: document.getElementById("tab-chat") };
function show(name) {
  for (const [n, button] of Object.entries(tabs)) {
    button.setAttribute("aria-selected", String(n === name));
    document.getElementById(`${n}-view`).hidden = n !== name;
  }
  if (name === "chat") startChat();
}
tabs.digits.onclick = () => { history.replaceState(null, "", "#"); show("digits"); };
tabs.chat.onclick = () => { history.replaceState(null, "", "#chat"); show("chat"); };
if (location.hash === "#chat") show("chat");
