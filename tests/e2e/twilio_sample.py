"""A Flask app written the way Twilio's quickstarts write it: send with the official client,
answer incoming messages with TwiML, check X-Twilio-Signature on every webhook.

The one line that moves it from Twilio to Marconi is ``client.api.base_url = …``.
"""

from __future__ import annotations

from flask import Flask, abort, request
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse


def create_app(*, account_sid: str, auth_token: str, api_base_url: str, sender: str) -> Flask:
    app = Flask(__name__)
    client = Client(account_sid, auth_token)
    client.api.base_url = api_base_url  # was https://api.twilio.com
    client.http_client.session.trust_env = False
    validator = RequestValidator(auth_token)
    app.config["STATUSES"] = []

    def check_signature() -> None:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(request.url, request.form, signature):
            abort(403)

    @app.route("/send", methods=["POST"])
    def send() -> dict[str, str]:
        message = client.messages.create(
            body=request.form["Body"],
            from_=sender,
            to=request.form["To"],
            status_callback=request.url_root + "status",
        )
        return {"sid": message.sid, "status": message.status}

    @app.route("/status", methods=["POST"])
    def status() -> tuple[str, int]:
        check_signature()
        app.config["STATUSES"].append((request.form["MessageSid"], request.form["MessageStatus"]))
        return "", 204

    @app.route("/sms", methods=["GET", "POST"])
    def incoming_sms() -> str:
        """Respond to incoming messages with a friendly SMS."""
        check_signature()
        body = request.values.get("Body", "")
        resp = MessagingResponse()
        if body.strip().lower() == "hello":
            resp.message("Hi! Thanks for the message.")
        else:
            resp.message(f"You said: {body}")
        return str(resp)

    return app
