// Starts `rnnc lsp` (LSP 3.17 over stdio) for .rnn files.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const settings = vscode.workspace.getConfiguration("rnn.server");
  const env = { ...process.env };
  if (settings.get("stdlib")) env.RNNC_STDLIB = settings.get("stdlib");
  const server = { command: settings.get("path") || "rnnc", args: ["lsp"], options: { env } };
  client = new LanguageClient("rnn", "rnn (rnnc lsp)", server, { documentSelector: [{ scheme: "file", language: "rnn" }] });
  client.start();
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
