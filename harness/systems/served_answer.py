"""What an OpenAI-compatible completion answer holds, checked before anything is kept of it.

`completion` reads ``choices[0]`` (chat: ``message.content``; completions: ``text``), ``usage``
(``prompt_tokens``, ``completion_tokens``), ``finish_reason``, ``model`` and
``system_fingerprint``. A field of the wrong type (``content`` a number, ``usage`` a string, a
token count ``"12"``) is one `AnswerShapeError` naming the server's URL, the article and the
field, with the start of the answer (through `harness.http_client.quote`: without keys); never a
traceback, and never a summary or count of the wrong type in the cache. A field that is absent or
null is allowed (servers leave ``usage`` out; ``content`` is null when a model answers nothing).

Every string kept (the text, ``finish_reason``, ``model``, ``system_fingerprint``) is stored without
the API key in any form (`harness.http_client.redact_keys`): a server that echoes the key into an
answer (a ``model`` holding it, a summary quoting it in base64) has it replaced by ``[redacted]``,
and ``key_redacted`` names the fields, so that the caller warns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from harness.http_client import quote, redact, redact_keys
from harness.systems.served import ServerError

# A token count above this is no model's (no context holds a billion tokens): refused, not a tokens/s of 7e31.
MAX_TOKEN_COUNT = 10 ** 9


class AnswerShapeError(ServerError):
    """A completion answer whose fields are not of the OpenAI API's types (a `ServerError`)."""


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int | None
    output_tokens: int | None
    finish_reason: str | None
    model: str | None
    system_fingerprint: str | None
    key_redacted: tuple[str, ...] = ()  # the fields that held the API key (now [redacted])


def _kind(value) -> str:
    """``a string ("12")``: the JSON type of a value and its start, as JSON (without keys)."""
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)
    shown = redact(json.dumps(value, ensure_ascii=False, default=str))
    return f"{kind} ({shown[:40]}{'…' if len(shown) > 40 else ''})"


def completion(answer, chat: bool, url: str, what: str) -> Completion:
    """The checked fields of ``answer`` (the JSON a completions endpoint at ``url`` gave for ``what``,
    e.g. ``article 'a1'``)."""
    def wrong(field: str, value, expected: str) -> AnswerShapeError:
        return AnswerShapeError(f"the server at {url} answered {what} with {field} {_kind(value)}, not {expected}: "
                                f"is it an OpenAI-compatible server? Its answer: {quote(answer, 300)}")

    choices = answer.get("choices") if isinstance(answer, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise AnswerShapeError(f"the server at {url} answered {what} without choices[0]: {quote(answer, 300)}")
    choice = choices[0]
    if chat:
        message = choice.get("message")
        if not isinstance(message, dict):
            raise wrong("choices[0].message", message, "an object with the answer's content")
        field, content = "choices[0].message.content", message.get("content")
    else:
        field, content = "choices[0].text", choice.get("text")
    if content is not None and not isinstance(content, str):
        raise wrong(field, content, "text (a string)")
    usage = answer.get("usage")
    if usage is not None and not isinstance(usage, dict):
        raise wrong("usage", usage, "an object of token counts")
    counts = {}
    for name in ("prompt_tokens", "completion_tokens"):
        value = (usage or {}).get(name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or not 0 <= value <= MAX_TOKEN_COUNT):
            raise wrong(f"usage.{name}", value, f"a whole number of tokens (0 to {MAX_TOKEN_COUNT:,})")
        counts[name] = value
    strings = {}
    for where, name in ((choice, "finish_reason"), (answer, "model"), (answer, "system_fingerprint")):
        value = where.get(name)
        if value is not None and not isinstance(value, str):
            raise wrong(name if where is answer else f"choices[0].{name}", value, "a string")
        strings[name] = value
    strings[field] = (content or "").strip()
    redacted = {}
    for name, value in strings.items():
        redacted[name] = redact_keys(value) if value is not None else None
    held = tuple(name for name in strings if redacted[name] != strings[name])
    return Completion(text=redacted[field], input_tokens=counts["prompt_tokens"],
                      output_tokens=counts["completion_tokens"], finish_reason=redacted["finish_reason"],
                      model=redacted["model"], system_fingerprint=redacted["system_fingerprint"], key_redacted=held)
