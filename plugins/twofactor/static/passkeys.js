/* Passkeys (WebAuthn) for Gallra's pages: served by the two-factor plugin, no CDN.
 *
 * A button with data-passkey="register" or data-passkey="use" and data-options="<url>"
 * sits in a form. On click the form's CSRF token (and, for "use", its challenge_id and
 * tenant) is posted to the options URL; the answer's publicKey goes to
 * navigator.credentials.create() or .get(); the credential, as JSON with base64url
 * fields, is put in the form's hidden "passkey" field (with "passkey_challenge" for a
 * registration) and the form is submitted. The buttons stay hidden without WebAuthn, and
 * the page's <noscript> text says what to do instead. */
(function () {
  "use strict";

  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function value(form, name) {
    var input = form.querySelector('input[name="' + name + '"]');
    return input ? input.value : "";
  }

  function credentialJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toText(cred.rawId),
      type: cred.type,
      response: { clientDataJSON: toText(r.clientDataJSON) },
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
    if (cred.authenticatorAttachment) { out.authenticatorAttachment = cred.authenticatorAttachment; }
    if (r.attestationObject) {
      out.response.attestationObject = toText(r.attestationObject);
      if (r.getTransports) { out.response.transports = r.getTransports(); }
    } else {
      out.response.authenticatorData = toText(r.authenticatorData);
      out.response.signature = toText(r.signature);
      if (r.userHandle) { out.response.userHandle = toText(r.userHandle); }
    }
    return out;
  }

  function showError(button, message) {
    var box = document.getElementById(button.getAttribute("data-error") || "");
    if (box) { box.textContent = message; box.hidden = false; }
  }

  async function run(button) {
    var form = button.form;
    var mode = button.getAttribute("data-passkey");
    var body = new URLSearchParams();
    body.append("csrf_token", value(form, "csrf_token"));
    if (mode === "use") {
      body.append("challenge_id", value(form, "challenge_id"));
      if (value(form, "tenant")) { body.append("tenant", value(form, "tenant")); }
    }
    var answer = await fetch(button.getAttribute("data-options"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    });
    var data = await answer.json();
    if (!answer.ok) { throw new Error(data.message || answer.statusText); }
    var pk = data.publicKey;
    pk.challenge = toBytes(pk.challenge);
    var cred;
    if (mode === "register") {
      pk.user.id = toBytes(pk.user.id);
      (pk.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
      cred = await navigator.credentials.create({ publicKey: pk });
      form.querySelector('input[name="passkey_challenge"]').value = data.challenge_id;
    } else {
      (pk.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
      cred = await navigator.credentials.get({ publicKey: pk });
    }
    form.querySelector('input[name="passkey"]').value = JSON.stringify(credentialJSON(cred));
    form.submit();
  }

  function start() {
    if (!window.PublicKeyCredential || !navigator.credentials) { return; }
    document.querySelectorAll("[data-passkey]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function (event) {
        event.preventDefault();
        if (mode(button) === "register" && !button.form.reportValidity()) { return; }
        button.disabled = true;
        run(button).catch(function (error) {
          button.disabled = false;
          showError(button, (error && error.name === "NotAllowedError")
            ? button.getAttribute("data-cancelled") : (error && error.message) || String(error));
        });
      });
    });
    document.querySelectorAll("[data-passkey-nojs]").forEach(function (el) { el.hidden = true; });
  }

  function mode(button) { return button.getAttribute("data-passkey"); }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
