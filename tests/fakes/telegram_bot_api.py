#!/usr/bin/env python3
"""A fake of the Telegram Bot API for Pyra's tests (standard library only).

    python3 tests/fakes/telegram_bot_api.py --token <TOKEN> --port-file <PATH>

It listens on 127.0.0.1 on a free port, writes the port number to PATH (atomically)
once it listens, and serves until SIGTERM or SIGINT. The Bot API lives under
/bot<TOKEN>/<method>; a test drives the other side (users, their messages and button
presses, injected failures) through the JSON control API under /_fake/.

What it copies from the real server (tdlib/telegram-bot-api and tdlib's text-entity
parsers): the ok/error envelope and HTTP statuses, error descriptions word for word,
parameters as strings (a JSON body's non-string values are kept as JSON text, so a
JSON-valued parameter may be an object or a string holding one), getUpdates offsets,
limits, long polling and its quirks (a second waiting poll ends the first with 409; a
repeat of the same offset within 3 s waits at least 3 s, within 0.5 s returns at most
one update), allowed_updates, and MarkdownV2 / HTML / Markdown parsing ported from
tdlib's MessageEntity.cpp, with UTF-16 offsets, trimming and automatic entities
(mentions, bot commands, hashtags, cashtags, URLs, e-mail addresses).
"""

import argparse
import email.message
import json
import os
import random
import re
import signal
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_TEXT_LENGTH = 4096  # message_text_length_max, in Unicode code points
LONG_POLL_MAX_TIMEOUT = 50
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are exactly the same as a "
                "current content and reply markup of the message")
DEFAULT_UPDATE_TYPES = {
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages", "inline_query",
    "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media",
    "poll", "poll_answer", "my_chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
}
ALL_UPDATE_TYPES = DEFAULT_UPDATE_TYPES | {"chat_member", "message_reaction", "message_reaction_count"}
CHAT_ACTIONS = {
    "cancel", "typing", "record_video", "upload_video", "record_audio", "record_voice", "upload_audio",
    "upload_voice", "upload_photo", "upload_document", "choose_sticker", "pick_up_location", "find_location",
    "record_video_note", "upload_video_note",
}
# Parameters whose value is JSON; the calls log shows them decoded.
JSON_PARAMS = {"reply_markup", "entities", "allowed_updates", "commands", "reply_parameters",
               "link_preview_options", "scope", "caption_entities"}


class ApiError(Exception):
    """A Bot API error answer: HTTP status = error_code."""

    def __init__(self, code, description, parameters=None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


class DropConnection(Exception):
    """Close the connection without answering."""


def bad(description):
    return ApiError(400, "Bad Request: " + description)


def td_bad(message):
    """A 400 from a tdlib message, worded as the Bot API server words it (Client::fail_query_with_error)."""
    if len(message) >= 2 and (message[1] == "_" or "A" <= message[1] <= "Z"):
        return bad(message)
    return bad(message[:1].lower() + message[1:])


def to_int(s):
    """td::to_integer: an optional '-', then digits up to the first non-digit; 0 when there are none."""
    m = re.match(r"-?\d*", s or "")
    digits = m.group(0) if m else ""
    return int(digits) if digits not in ("", "-") else 0


def to_bool(s):
    return (s or "").strip().lower() in ("true", "yes", "1")


def clamp(v, lo, hi):
    return max(lo, min(hi, v))


def utf16_len(s):
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in s)


# ---------------------------------------------------------------------------------------------
# URLs (tdutils HttpUrl.cpp parse_url, LinkManager::check_link)
# ---------------------------------------------------------------------------------------------

class UrlError(Exception):
    pass


_URL_PART_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_!$,~*'();&+=")


def _check_url_part(part, allow_colon):
    i = 0
    while i < len(part):
        c = part[i]
        if c in _URL_PART_OK or (allow_colon and c == ":") or ord(c) >= 128:
            i += 1
            continue
        if c == "%" and re.match(r"%[0-9a-fA-F]{2}", part[i:i + 3]):
            i += 3
            continue
        raise UrlError("Disallowed character in URL")


def parse_url(url):
    """Returns (protocol, userinfo, host, port, query) like td::parse_url, or raises UrlError."""
    m = re.match(r"([^:/?#@\[\]]*)://", url)
    if m:
        protocol = m.group(1).lower()
        if protocol not in ("http", "https"):
            raise UrlError("Unsupported URL protocol")
        rest = url[m.end():]
    else:
        protocol, rest = "http", url
    m = re.match(r"[^/?#]*", rest)
    userinfo_host_port, query = m.group(0), rest[m.end():]
    port = 0
    colon = max(userinfo_host_port.rfind(":"), -1)
    if colon > 0 and colon > userinfo_host_port.rfind("]") and colon > userinfo_host_port.rfind("@"):
        port_text = userinfo_host_port[colon + 1:].lstrip("0") or "0"
        port = int(port_text) if port_text.isdigit() and int(port_text) != 0 else -1
        userinfo_host = userinfo_host_port[:colon]
    else:
        userinfo_host = userinfo_host_port
    if port < 0 or port > 65535:
        raise UrlError("Wrong port number specified in the URL")
    at = userinfo_host.rfind("@")
    userinfo, host = (userinfo_host[:at], userinfo_host[at + 1:]) if at >= 0 else ("", userinfo_host)
    if not host:
        raise UrlError("URL host is empty")
    if host == ".":
        raise UrlError("Host is invalid")
    query = query.rstrip(" \t\r\n\v\0") or "/"
    query = ("" if query[0] == "/" else "/") + "".join("%%%02X" % ord(c) if ord(c) <= 0x20 else c for c in query)
    host = host.lower()
    is_ipv6 = host.startswith("[") and host.endswith("]")
    if not is_ipv6:
        _check_url_part(host, False)
        _check_url_part(userinfo, True)
    return protocol, userinfo, host, port, query, is_ipv6


def checked_link(link):
    """LinkManager::get_checked_link: the normalised link, or "" when Telegram would refuse it."""
    try:
        lower = link.lower()
        for scheme in ("tg", "ton", "tonsite"):
            if lower.startswith(scheme + ":"):
                rest = link[len(scheme) + 1:]
                if rest.startswith("//"):
                    rest = rest[2:]
                _, userinfo, host, port, query, is_ipv6 = parse_url(rest)
                if rest.lower().startswith(("http://", "https://")) or userinfo or port or is_ipv6:
                    return ""
                if query.startswith("/?"):
                    query = query[1:]
                if not all(c.isalnum() or c in "-_" or (scheme == "tonsite" and c == ".") for c in host):
                    return ""
                return f"{scheme}://{host}{query}"
        protocol, userinfo, host, port, query, is_ipv6 = parse_url(link)
        if "." not in host and not is_ipv6:
            return ""
        return f"{protocol}://{userinfo + '@' if userinfo else ''}{host}{':' + str(port) if port else ''}{query}"
    except UrlError:
        return ""


def link_user_id(url):
    m = re.fullmatch(r"tg:(?://)?user\?id=(\d+)", url, re.IGNORECASE)
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None


# ---------------------------------------------------------------------------------------------
# Text entities (ported from tdlib td/telegram/MessageEntity.cpp)
# ---------------------------------------------------------------------------------------------

class EntityError(Exception):
    """A parse error; the message is tdlib's, the caller adds "Can't parse entities: "."""


PRIORITY = {
    "Mention": 50, "Hashtag": 50, "BotCommand": 50, "Url": 50, "EmailAddress": 50, "Bold": 90, "Italic": 91,
    "Code": 20, "Pre": 11, "PreCode": 10, "TextUrl": 49, "MentionName": 49, "Cashtag": 50, "PhoneNumber": 50,
    "Underline": 92, "Strikethrough": 93, "BlockQuote": 0, "BankCardNumber": 50, "MediaTimestamp": 50,
    "Spoiler": 94, "CustomEmoji": 99, "ExpandableBlockQuote": 0, "FormattedDate": 30,
}
TYPE_NAME = {"FormattedDate": "Date"}  # how tdlib prints a type in an error
SPLITTABLE = {"Bold", "Italic", "Underline", "Strikethrough", "Spoiler"}
BLOCKQUOTES = {"BlockQuote", "ExpandableBlockQuote"}
CODE_TYPES = {"Code", "Pre", "PreCode"}
API_TYPE = {
    "Mention": "mention", "Hashtag": "hashtag", "Cashtag": "cashtag", "BotCommand": "bot_command", "Url": "url",
    "EmailAddress": "email", "PhoneNumber": "phone_number", "BankCardNumber": "bank_card_number", "Bold": "bold",
    "Italic": "italic", "Underline": "underline", "Strikethrough": "strikethrough", "Spoiler": "spoiler",
    "Code": "code", "Pre": "pre", "PreCode": "pre", "TextUrl": "text_link", "MentionName": "text_mention",
    "CustomEmoji": "custom_emoji", "BlockQuote": "blockquote", "ExpandableBlockQuote": "expandable_blockquote",
    "FormattedDate": "date_time",
}
FROM_API_TYPE = {v: k for k, v in API_TYPE.items() if k != "PreCode"}


class Entity:
    __slots__ = ("type", "offset", "length", "argument")

    def __init__(self, type_, offset, length, argument=None):
        self.type = type_
        self.offset = offset
        self.length = length
        self.argument = argument

    def sort_key(self):
        return (self.offset, -self.length, PRIORITY[self.type])


def _is_space(c):
    return c in (0x20, 0x09, 0x0D, 0x0A, 0x00, 0x0B)


def _is_first(c):
    return (c & 0xC0) != 0x80


def _units(c):
    """UTF-16 code units added by the UTF-8 byte c (0 for a continuation byte)."""
    return (2 if c >= 0xF0 else 1) if _is_first(c) else 0


def _reserved(c):
    return EntityError(f"Character '{chr(c)}' is reserved and must be escaped with the preceding '\\'")


class _Nested:
    __slots__ = ("type", "argument", "offset", "byte_offset", "begin")

    def __init__(self, type_, argument, offset, byte_offset, begin):
        self.type, self.argument, self.offset, self.byte_offset, self.begin = \
            type_, argument, offset, byte_offset, begin


def _cant_find_end(nested):
    name = TYPE_NAME.get(nested.type, nested.type)
    return EntityError(f"Can't find end of {name} entity at byte offset {nested.byte_offset}")


def _read_url(b, i):
    """Reads a MarkdownV2 URL starting at b[i] up to ')'; returns (url, index of ')')."""
    n = len(b)
    begin = i
    url = bytearray()
    while i < n and b[i] != 0x29:
        if b[i] == 0x5C and i + 1 < n and 0 < b[i + 1] <= 126:
            url.append(b[i + 1])
            i += 2
            continue
        url.append(b[i])
        i += 1
    if i >= n:
        raise EntityError(f"Can't find end of a URL at byte offset {begin}")
    return url.decode("utf-8", "replace"), i


def parse_markdown_v2(text):
    b = text.encode("utf-8")
    n = len(b)

    def at(k):
        return b[k] if k < n else 0

    out = bytearray()
    entities = []
    u16 = 0
    nested = []
    have_blockquote = False
    can_start_blockquote = True
    i = -1
    while True:
        i += 1
        if i >= n:
            break
        c = b[i]
        if c == 0x5C and 0 < at(i + 1) <= 126:
            i += 1
            u16 += 1
            out.append(b[i])
            if b[i] != 0x0D:
                can_start_blockquote = b[i] == 0x0A
            continue

        reserved = b"_*[]()~`>#+-=|{}.!\n"
        if nested and nested[-1].type in CODE_TYPES:
            reserved = b"`"
        if c not in reserved:
            if _is_first(c):
                u16 += _units(c)
                if c != 0x0D:
                    can_start_blockquote = False
            out.append(c)
            continue

        is_end = False
        if nested:
            t = nested[-1].type
            if have_blockquote and c == 0x0A and (i + 1 == n or at(i + 1) != ord(">")):
                is_end = True
            elif t == "Bold":
                is_end = c == ord("*")
            elif t == "Italic":
                is_end = c == ord("_") and at(i + 1) != ord("_")
            elif t == "Code":
                is_end = c == ord("`")
            elif t in ("Pre", "PreCode"):
                is_end = c == ord("`") and at(i + 1) == ord("`") and at(i + 2) == ord("`")
            elif t in ("TextUrl", "CustomEmoji"):
                is_end = c == ord("]")
            elif t == "Underline":
                is_end = c == ord("_") and at(i + 1) == ord("_")
            elif t == "Strikethrough":
                is_end = c == ord("~")
            elif t == "Spoiler":
                is_end = c == ord("|") and at(i + 1) == ord("|")

        if not is_end:
            argument = None
            byte_offset = i
            ch = chr(c)
            if ch == "_":
                if at(i + 1) == ord("_"):
                    type_ = "Underline"
                    i += 1
                else:
                    type_ = "Italic"
            elif ch == "*":
                type_ = "Bold"
            elif ch == "~":
                type_ = "Strikethrough"
            elif ch == "|":
                if at(i + 1) != ord("|"):
                    raise _reserved(c)
                i += 1
                type_ = "Spoiler"
            elif ch == "[":
                type_ = "TextUrl"
            elif ch == "`":
                if at(i + 1) == ord("`") and at(i + 2) == ord("`"):
                    i += 3
                    type_ = "Pre"
                    language_end = i
                    while not _is_space(at(language_end)) and at(language_end) != ord("`"):
                        language_end += 1
                    if i != language_end and language_end < n and at(language_end) != ord("`"):
                        type_ = "PreCode"
                        argument = b[i:language_end].decode("utf-8", "replace")
                        i = language_end
                    if at(i) in (0x0A, 0x0D):
                        if at(i + 1) in (0x0A, 0x0D) and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    type_ = "Code"
            elif ch == "!":
                if at(i + 1) != ord("["):
                    raise _reserved(c)
                i += 1
                type_ = "CustomEmoji"
            elif ch == "\n":
                u16 += 1
                out.append(0x0A)
                can_start_blockquote = True
                continue
            elif ch == ">":
                if not can_start_blockquote:
                    raise _reserved(c)
                if have_blockquote:
                    continue
                type_ = "BlockQuote"
                have_blockquote = True
            else:
                raise _reserved(c)
            nested.append(_Nested(type_, argument, u16, byte_offset, len(out)))
            continue

        # the end of an entity
        type_ = nested[-1].type
        if c == 0x0A and type_ != "BlockQuote":
            top = nested[-1]
            expandable = type_ == "Spoiler" and (
                top.byte_offset == i - 2 or (top.byte_offset == i - 3 and out and out[-1] == 0x0D))
            if not expandable:
                raise _cant_find_end(top)
            nested.pop()
            if nested[-1].type != "BlockQuote":
                raise _cant_find_end(nested[-1])
            type_ = "ExpandableBlockQuote"
        top = nested[-1]
        argument = top.argument
        skip = u16 == top.offset
        if type_ in ("Underline", "Spoiler"):
            i += 1
        elif type_ in ("Pre", "PreCode"):
            i += 2
        elif type_ == "TextUrl":
            if at(i + 1) != ord("("):
                url = out[top.begin:].decode("utf-8", "replace")
            else:
                url, i = _read_url(b, i + 2)
            user_id = link_user_id(url)
            if user_id is not None:
                type_, argument = "MentionName", user_id
            else:
                argument = checked_link(url)
                skip = skip or not argument
        elif type_ == "CustomEmoji":
            if at(i + 1) != ord("("):
                raise EntityError("The entity must contain a tg://emoji or tg://time URL")
            url, i = _read_url(b, i + 2)
            emoji = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
            date = re.fullmatch(r"tg://time\?unix=(\d+)(?:&format=(\w*))?", url)
            if emoji:
                argument = emoji.group(1)
            elif date:
                type_, argument = "FormattedDate", (int(date.group(1)), date.group(2) or "")
            else:
                raise EntityError("Invalid tg://emoji or tg://time URL specified")
        elif type_ in BLOCKQUOTES:
            have_blockquote = False
            out.append(b[i])
            can_start_blockquote = True
            u16 += 1
            skip = False
        if not skip:
            entities.append(Entity(type_, top.offset, u16 - top.offset, argument))
        nested.pop()

    if have_blockquote:
        type_ = "BlockQuote"
        if nested[-1].type == "Spoiler" and nested[-1].byte_offset == n - 2:
            nested.pop()
            type_ = "ExpandableBlockQuote"
        if nested[-1].type == "BlockQuote":
            if u16 != nested[-1].offset:
                entities.append(Entity(type_, nested[-1].offset, u16 - nested[-1].offset))
            nested.pop()
    if nested:
        raise _cant_find_end(nested[-1])
    return out.decode("utf-8"), entities


def parse_markdown(text):
    """The legacy Markdown parse mode (tdlib parse_markdown)."""
    b = text.encode("utf-8")
    n = len(b)

    def at(k):
        return b[k] if k < n else 0

    out = bytearray()
    entities = []
    u16 = 0
    i = -1
    while True:
        i += 1
        if i >= n:
            break
        c = b[i]
        if c == 0x5C and at(i + 1) in b"_*`[":
            i += 1
            out.append(b[i])
            u16 += 1
            continue
        if c not in b"_*`[":
            u16 += _units(c)
            out.append(c)
            continue
        begin = i
        end_character = ord("]") if c == ord("[") else c
        is_pre = False
        i += 1
        language = ""
        if c == ord("`") and at(i) == ord("`") and at(i + 1) == ord("`"):
            i += 2
            is_pre = True
            language_end = i
            while not _is_space(at(language_end)) and at(language_end) != ord("`"):
                language_end += 1
            if i != language_end and language_end < n and at(language_end) != ord("`"):
                language = b[i:language_end].decode("utf-8", "replace")
                i = language_end
            if at(i) in (0x0A, 0x0D):
                if at(i + 1) in (0x0A, 0x0D) and at(i) != at(i + 1):
                    i += 2
                else:
                    i += 1
        offset = u16
        while i < n and (b[i] != end_character or (is_pre and not (at(i + 1) == ord("`") and at(i + 2) == ord("`")))):
            u16 += _units(b[i])
            out.append(b[i])
            i += 1
        if i >= n:
            raise EntityError(f"Can't find end of the entity starting at byte offset {begin}")
        if offset != u16:
            length = u16 - offset
            if c == ord("_"):
                entities.append(Entity("Italic", offset, length))
            elif c == ord("*"):
                entities.append(Entity("Bold", offset, length))
            elif c == ord("["):
                if at(i + 1) != ord("("):
                    url = b[begin + 1:i].decode("utf-8", "replace")
                else:
                    i += 2
                    start = i
                    while i < n and b[i] != ord(")"):
                        i += 1
                    url = b[start:i].decode("utf-8", "replace")
                user_id = link_user_id(url)
                if user_id is not None:
                    entities.append(Entity("MentionName", offset, length, user_id))
                elif checked_link(url):
                    entities.append(Entity("TextUrl", offset, length, checked_link(url)))
            elif is_pre:
                entities.append(Entity("PreCode", offset, length, language) if language
                                else Entity("Pre", offset, length))
            else:
                entities.append(Entity("Code", offset, length))
        if is_pre:
            i += 2
    return out.decode("utf-8"), entities


HTML_TAGS = {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji", "tg-time",
             "span", "pre", "code", "blockquote"}


def _decode_html_entity(b, pos):
    """Returns (code point, position after the reference), or (0, pos) when b[pos:] is no known reference."""
    n = len(b)

    def at(k):
        return b[k] if k < n else 0

    end = pos + 1
    res = 0
    if at(pos + 1) == ord("#"):
        end += 1
        if at(pos + 2) == ord("x"):
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end):
                res = res * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while ord("0") <= at(end) <= ord("9"):
                res = res * 10 + at(end) - ord("0")
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while ord("a") <= (at(end) | 0x20) <= ord("z"):
            end += 1
        res = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}.get(b[pos + 1:end], 0)
        if not res:
            return 0, pos
    return res, (end + 1 if at(end) == ord(";") else end)


def parse_html(text):
    b = text.encode("utf-8")
    n = len(b)

    def at(k):
        return b[k] if k < n else 0

    def is_alnum(c):
        return ord("0") <= c <= ord("9") or ord("a") <= (c | 0x20) <= ord("z")

    out = bytearray()
    entities = []
    u16 = 0
    nested = []  # [tag, argument, date, utf16 offset, begin in out]
    i = -1
    while True:
        i += 1
        if i >= n:
            break
        c = b[i]
        if c == ord("&"):
            code, after = _decode_html_entity(b, i)
            if code:
                i = after - 1
                u16 += 2 if code > 0xFFFF else 1
                out += chr(code).encode("utf-8", "surrogatepass")
                continue
        if c != ord("<"):
            u16 += _units(c)
            out.append(c)
            continue

        begin = i
        i += 1
        if at(i) != ord("/"):
            while not _is_space(at(i)) and at(i) != ord(">"):
                i += 1
            if at(i) == 0:
                raise EntityError(f"Unclosed start tag at byte offset {begin}")
            tag = b[begin + 1:i].decode("utf-8", "replace").lower()
            if tag not in HTML_TAGS:
                raise EntityError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            date = 0
            while at(i) != ord(">"):
                while at(i) != 0 and _is_space(at(i)):
                    i += 1
                if at(i) == ord(">"):
                    break
                name_begin = i
                while not _is_space(at(i)) and at(i) not in b"=>/\"'":
                    i += 1
                name = b[name_begin:i]
                if not name:
                    raise EntityError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while at(i) != 0 and _is_space(at(i)):
                    i += 1
                if at(i) != ord("="):
                    if at(i) == 0:
                        raise EntityError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                    if tag == "blockquote" and name == b"expandable":
                        argument = "1"
                    continue
                i += 1
                while at(i) != 0 and _is_space(at(i)):
                    i += 1
                if at(i) == 0:
                    raise EntityError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if at(i) not in (ord("'"), ord('"')):
                    token_begin = i
                    while is_alnum(at(i)) or at(i) in (ord("."), ord("-")):
                        i += 1
                    value = b[token_begin:i].decode("utf-8", "replace").lower()
                    if not _is_space(at(i)) and at(i) != ord(">"):
                        raise EntityError(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    end_character = at(i)
                    i += 1
                    raw = bytearray()
                    while at(i) != end_character and at(i) != 0:
                        if at(i) == ord("&"):
                            code, after = _decode_html_entity(b, i)
                            if code:
                                raw += chr(code).encode("utf-8", "surrogatepass")
                                i = after
                                continue
                        raw.append(at(i))
                        i += 1
                    if at(i) == end_character:
                        i += 1
                    value = raw.decode("utf-8", "replace")
                if at(i) == 0:
                    raise EntityError(f"Unclosed start tag at byte offset {begin}")
                if tag == "a" and name == b"href":
                    argument = value
                elif tag == "code" and name == b"class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and name == b"class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "tg-emoji" and name == b"emoji-id":
                    argument = value
                elif tag == "blockquote" and name == b"expandable":
                    argument = "1"
                elif tag == "tg-time" and name == b"unix":
                    date = to_int(value)
                elif tag == "tg-time" and name == b"format":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise EntityError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            nested.append([tag, argument, date, u16, len(out)])
            continue

        # an end tag
        if not nested:
            raise EntityError(f"Unexpected end tag at byte offset {begin}")
        while not _is_space(at(i)) and at(i) != ord(">"):
            i += 1
        end_tag = b[begin + 2:i].decode("utf-8", "replace").lower()
        while _is_space(at(i)) and at(i) != 0:
            i += 1
        if at(i) != ord(">"):
            raise EntityError(f"Unclosed end tag at byte offset {begin}")
        tag, argument, date, offset, entity_begin = nested[-1]
        if end_tag and end_tag != tag:
            raise EntityError(f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", found "</{end_tag}>"')
        if u16 > offset:
            length = u16 - offset
            last = entities[-1] if entities else None
            same_span = last is not None and last.offset == offset and last.length == length
            if tag in ("i", "em"):
                entities.append(Entity("Italic", offset, length))
            elif tag in ("b", "strong"):
                entities.append(Entity("Bold", offset, length))
            elif tag in ("s", "strike", "del"):
                entities.append(Entity("Strikethrough", offset, length))
            elif tag in ("u", "ins"):
                entities.append(Entity("Underline", offset, length))
            elif tag in ("tg-spoiler", "span"):
                entities.append(Entity("Spoiler", offset, length))
            elif tag == "tg-emoji":
                if to_int(argument) == 0 or not re.fullmatch(r"-?\d+", argument):
                    raise EntityError("Invalid custom emoji identifier specified")
                entities.append(Entity("CustomEmoji", offset, length, argument))
            elif tag == "tg-time":
                if date > 0:
                    entities.append(Entity("FormattedDate", offset, length, (date, argument)))
            elif tag == "a":
                url = argument or bytes(out[entity_begin:]).decode("utf-8", "replace")
                user_id = link_user_id(url)
                if user_id is not None:
                    entities.append(Entity("MentionName", offset, length, user_id))
                elif checked_link(url):
                    entities.append(Entity("TextUrl", offset, length, checked_link(url)))
            elif tag == "pre":
                if same_span and last.type == "Code" and last.argument:
                    last.type = "PreCode"
                else:
                    entities.append(Entity("Pre", offset, length))
            elif tag == "code":
                if same_span and last.type == "Pre" and argument:
                    last.type = "PreCode"
                    last.argument = argument
                else:
                    entities.append(Entity("Code", offset, length, argument))
            elif tag == "blockquote":
                entities.append(Entity("ExpandableBlockQuote" if argument else "BlockQuote", offset, length))
        nested.pop()
    if nested:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{nested[-1][0]}"')
    for entity in entities:
        if entity.type == "Code":
            entity.argument = None
    try:
        return out.decode("utf-8"), entities
    except UnicodeDecodeError:
        raise EntityError("Text contains invalid Unicode characters after decoding HTML entities, check for "
                          "unmatched surrogate code units") from None


# Automatic entities (tdlib find_entities), close to but simpler than tdlib's matchers.

def _word(ch):
    return ch.isalnum() or ch == "_"


def _hashtag_letter(ch):
    return ch.isalpha() or ch.isdecimal() or ch in "_\u200c\u00b7" or "\u0d80" <= ch <= "\u0dff"


COMMON_TLDS = {"com", "org", "net", "io", "dev", "app", "ai", "me", "co", "info", "xyz", "edu", "gov", "ru", "de",
               "uk", "fr", "it", "es", "nl", "eu", "us", "ca", "jp", "cn", "in", "br", "tv", "ly", "gg", "sh"}


def find_entities(text):
    """(type, start, end) in code points, not intersecting each other."""
    found = []
    n = len(text)
    for m in re.finditer(r"@([A-Za-z0-9_]+)", text):
        s, e = m.span()
        if (s > 0 and _word(text[s - 1])) or not 2 <= e - s - 1 <= 32 or (e < n and _word(text[e])):
            continue
        found.append(("Mention", s, e))
    for m in re.finditer(r"/([A-Za-z0-9_]+)(@[A-Za-z0-9_]*)?", text):
        s, e = m.span()
        if s > 0 and (_word(text[s - 1]) or text[s - 1] in "/<>"):
            continue
        if not 1 <= len(m.group(1)) <= 64 or (m.group(2) is not None and not 3 <= len(m.group(2)) - 1 <= 32):
            continue
        if e < n and (_word(text[e]) or text[e] in "/<>"):
            continue
        found.append(("BotCommand", s, e))
    for m in re.finditer(r"#", text):
        s = m.start()
        if s > 0 and _hashtag_letter(text[s - 1]):
            continue
        e = s + 1
        while e < n and _hashtag_letter(text[e]):
            e += 1
        body = text[s + 1:e]
        if not body or (e < n and text[e] == "#") or not any(ch.isalpha() for ch in body):
            continue
        found.append(("Hashtag", s, min(e, s + 257)))
    for m in re.finditer(r"\$(1INCH|[A-Z]{1,8})", text):
        s, e = m.span()
        if (s > 0 and (_hashtag_letter(text[s - 1]) or text[s - 1] == "$")) or \
                (e < n and (_hashtag_letter(text[e]) or text[e] == "$")):
            continue
        found.append(("Cashtag", s, e))
    for m in re.finditer(r"[\w.+-]+@(?:[\w-]+\.)+[A-Za-z]{2,}", text):
        found.append(("EmailAddress", m.start(), m.end()))
    url = r"(?:(?:https?|ftp)://)?(?:[\w-]+\.)+([A-Za-z]{2,})(?::\d{1,5})?(?:[/?#][^\s]*)?"
    for m in re.finditer(url, text, re.IGNORECASE):
        s, e = m.span()
        if s > 0 and (_word(text[s - 1]) or text[s - 1] in "@.$/"):
            continue
        has_scheme = "://" in m.group(0)
        if not has_scheme and m.group(1).lower() not in COMMON_TLDS:
            continue
        while e > s and text[e - 1] in ".,:;!?'\")]}":
            if text[e - 1] == ")" and text[s:e].count("(") >= text[s:e].count(")"):
                break
            e -= 1
        found.append(("Url", s, e))
    found.sort(key=lambda f: (f[1], -(f[2] - f[1])))
    result, last_end = [], 0
    for f in found:
        if f[1] >= last_end:
            result.append(f)
            last_end = f[2]
    return result


def finish_text(text, entities):
    """fix_formatted_text for a bot: drop empty and nested-in-code entities, trim spaces and newlines at both
    ends, add automatic entities. Raises "Text must be non-empty"."""
    total = utf16_len(text)
    clipped = []
    for e in entities:
        end = min(e.offset + e.length, total)
        if e.offset < end:
            clipped.append(Entity(e.type, e.offset, end - e.offset, e.argument))
    codes = [e for e in clipped if e.type in CODE_TYPES]
    entities = [e for e in clipped if not any(
        c is not e and c.offset <= e.offset and e.offset + e.length <= c.offset + c.length and e.type not in BLOCKQUOTES
        for c in codes)]
    entities.sort(key=Entity.sort_key)

    stripped = text.rstrip(" \n")
    if not stripped:
        raise td_bad("Text must be non-empty")
    new_total = utf16_len(stripped)
    kept = []
    for e in entities:
        if e.offset >= new_total:
            continue
        if e.offset + e.length > new_total:
            e.length = new_total - e.offset
        kept.append(e)
    entities = sorted(kept, key=Entity.sort_key)
    first_entity = entities[0].offset if entities else len(stripped)
    lead = 0
    while lead < first_entity and stripped[lead] in " \n":
        lead += 1
    text = stripped[lead:]
    for e in entities:
        e.offset -= lead

    # automatic entities that do not cross a continuous entity (code, pre, text_link, ...)
    offsets = [0]
    for ch in text:
        offsets.append(offsets[-1] + (2 if ord(ch) > 0xFFFF else 1))
    continuous = [e for e in entities if e.type not in SPLITTABLE and e.type not in BLOCKQUOTES]
    for type_, s, e in find_entities(text):
        start, end = offsets[s], offsets[e]
        if any(start < c.offset + c.length and c.offset < end for c in continuous):
            continue
        entities.append(Entity(type_, start, end - start))
    entities.sort(key=Entity.sort_key)
    return text, entities


def entity_json(e, users):
    o = {"offset": e.offset, "length": e.length, "type": API_TYPE[e.type]}
    if e.type == "PreCode":
        o["language"] = e.argument
    elif e.type == "TextUrl":
        o["url"] = e.argument
    elif e.type == "MentionName":
        o["user"] = users.get(e.argument) or {"id": e.argument, "is_bot": False, "first_name": ""}
    elif e.type == "CustomEmoji":
        o["custom_emoji_id"] = str(e.argument)
    elif e.type == "FormattedDate":
        o["unix_time"] = e.argument[0]
        if e.argument[1]:
            o["date_time_format"] = e.argument[1]
    return o


def entities_from_param(raw):
    """The `entities` parameter (used when there is no parse_mode)."""
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(value, list):
        return []
    result = []
    for item in value:
        if not isinstance(item, dict):
            raise td_bad("Can't parse MessageEntity: expected an Object")
        for field in ("type", "offset", "length"):
            if field not in item:
                raise td_bad(f'Can\'t parse MessageEntity: Can\'t find field "{field}"')
        type_ = FROM_API_TYPE.get(str(item["type"]))
        if type_ is None:
            continue
        offset, length = to_int(str(item["offset"])), to_int(str(item["length"]))
        argument = None
        if type_ == "Pre" and item.get("language"):
            type_, argument = "PreCode", str(item["language"])
        elif type_ == "TextUrl":
            argument = checked_link(str(item.get("url", "")))
            if not argument:
                raise td_bad("Can't parse MessageEntity: Wrong URL specified")
        elif type_ == "MentionName":
            argument = to_int(str((item.get("user") or {}).get("id", "")))
        elif type_ == "CustomEmoji":
            argument = str(item.get("custom_emoji_id", ""))
        elif type_ == "FormattedDate":
            argument = (to_int(str(item.get("unix_time", ""))), str(item.get("date_time_format", "")))
        result.append(Entity(type_, offset, length, argument))
    return result


def parse_text(text, parse_mode, entities_param):
    """get_formatted_text in the Bot API server: the text and entities a parse mode (or `entities`) gives;
    finish_text then does what tdlib does before sending."""
    mode = parse_mode.lower()
    if mode and mode != "none":
        parser = {"markdown": parse_markdown, "markdownv2": parse_markdown_v2, "html": parse_html}.get(mode)
        if parser is None:
            raise td_bad("Unsupported parse_mode")
        try:
            text, entities = parser(text)
        except EntityError as e:
            raise td_bad(f"Can't parse entities: {e}") from None
    else:
        entities = entities_from_param(entities_param)
    return text, entities


# ---------------------------------------------------------------------------------------------
# Reply markup (Client::get_reply_markup)
# ---------------------------------------------------------------------------------------------

def _string_field(obj, name, required, what):
    if name not in obj:
        if required:
            raise td_bad(f'{what}Can\'t find field "{name}"')
        return ""
    value = obj[name]
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return json.dumps(value)
    raise td_bad(f'{what}Field "{name}" must be of type String')


def parse_reply_markup(raw):
    """Returns (markup as stored, inline keyboard for the Message object or None)."""
    if not raw:
        return None, None
    try:
        value = json.loads(raw)
    except ValueError:
        raise td_bad("Can't parse reply keyboard markup JSON object") from None
    if not isinstance(value, dict):
        raise td_bad("Object expected as reply markup")
    keyboard = value.get("keyboard")
    if keyboard is not None and not isinstance(keyboard, list):
        raise td_bad('Field "keyboard" must be of type Array')
    for row in keyboard or []:
        if not isinstance(row, list):
            raise td_bad('Field "keyboard" must be an Array of Arrays')
    inline = value.get("inline_keyboard")
    if inline is not None and not isinstance(inline, list):
        raise td_bad('Field "inline_keyboard" must be of type Array')
    rows = []
    what = "Can't parse inline keyboard button: "
    for row in inline or []:
        if not isinstance(row, list):
            raise td_bad('Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        new_row = []
        for button in row:
            if not isinstance(button, dict):
                raise td_bad(what + "InlineKeyboardButton must be an Object")
            out = {"text": _string_field(button, "text", True, what)}
            for key in ("url", "callback_data"):
                if _string_field(button, key, False, what):
                    out[key] = _string_field(button, key, False, what)
                    break
            else:
                for key in ("callback_game", "pay", "switch_inline_query", "switch_inline_query_chosen_chat",
                            "switch_inline_query_current_chat", "login_url", "web_app", "copy_text"):
                    if key in button:
                        out[key] = button[key]
                        break
                else:
                    raise td_bad(what + "Text buttons are unallowed in the inline keyboard")
            for key in ("style", "icon_custom_emoji_id"):
                if key in button:
                    out[key] = button[key]
            new_row.append(out)
        rows.append(new_row)
    if keyboard:
        return value, None
    if any(rows):
        markup = {"inline_keyboard": rows}
        return markup, markup
    if to_bool(str(value.get("remove_keyboard", ""))) or to_bool(str(value.get("force_reply", ""))):
        return value, None
    return None, None


def check_markup_on_server(inline):
    """What Telegram's servers refuse after the Bot API server has accepted the markup."""
    for row in (inline or {}).get("inline_keyboard", []):
        for button in row:
            if "callback_data" in button and len(button["callback_data"].encode("utf-8")) > 64:
                raise bad("BUTTON_DATA_INVALID")
            if "url" in button and not checked_link(button["url"]):
                raise bad("BUTTON_URL_INVALID")
            if not button["text"]:
                raise bad("BUTTON_TEXT_INVALID")


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------

class Params:
    """A request's parameters as the real server sees them: name -> text, first occurrence wins."""

    def __init__(self):
        self.text = {}
        self.logged = {}

    def add(self, name, text, raw):
        if name in self.text:
            return
        self.text[name] = text
        if name in JSON_PARAMS and isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                pass
        self.logged[name] = raw

    def arg(self, name):
        return self.text.get(name, "")

    def has(self, name):
        return name in self.text


def parse_params(query, content_type, body):
    params = Params()
    for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True):
        params.add(k, v, v)
    header = email.message.Message()
    header["content-type"] = content_type or "application/octet-stream"
    ctype = header.get_content_type()
    if ctype == "application/json":
        try:
            value = json.loads(body.decode("utf-8")) if body.strip() else {}
        except ValueError:
            value = {}  # the real server logs the error and goes on without parameters
        if isinstance(value, dict):
            for k, v in value.items():
                params.add(k, v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, separators=(",", ":")), v)
    elif ctype == "application/x-www-form-urlencoded":
        for k, v in urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            params.add(k, v, v)
    elif ctype == "multipart/form-data":
        boundary = header.get_param("boundary")
        if boundary:
            for name, value, filename in parse_multipart(body, boundary.encode("latin-1")):
                if filename is None:
                    text = value.decode("utf-8", "replace")
                    params.add(name, text, text)
                else:
                    params.add(name, "attach://" + filename, {"file": filename, "size": len(value)})
    return params


def parse_multipart(body, boundary):
    """(name, content, filename or None) for each part of a multipart/form-data body."""
    parts = body.split(b"--" + boundary)
    for part in parts[1:]:
        if part.startswith(b"--"):
            break
        if part.startswith(b"\r\n"):
            part = part[2:]
        if part.endswith(b"\r\n"):
            part = part[:-2]
        head, _, content = part.partition(b"\r\n\r\n")
        headers = email.message.Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip()] = v.strip()
        name = headers.get_param("name", header="content-disposition")
        if name is None:
            continue
        filename = headers.get_param("filename", header="content-disposition")
        yield str(name), content, (None if filename is None else str(filename))


# ---------------------------------------------------------------------------------------------
# The fake
# ---------------------------------------------------------------------------------------------

class Fake:
    """All state, behind one condition variable (long polls wait on it)."""

    def __init__(self, token, first_name, username):
        self.cond = threading.Condition()
        self.token = token
        self.bot = {"id": to_int(token.split(":", 1)[0]), "is_bot": True, "first_name": first_name,
                    "username": username}
        # tdlib's TQueue starts at a random id; so do we, and ids keep growing across resets.
        self.next_update_id = random.randint(2_000_001, 1_000_000_000)
        self.methods = {name.lower(): (name, getattr(self, handler)) for name, handler in [
            ("getMe", "m_get_me"), ("getUpdates", "m_get_updates"), ("setWebhook", "m_set_webhook"),
            ("deleteWebhook", "m_delete_webhook"), ("getWebhookInfo", "m_get_webhook_info"),
            ("setMyCommands", "m_set_my_commands"), ("getMyCommands", "m_get_my_commands"),
            ("deleteMyCommands", "m_delete_my_commands"), ("sendMessage", "m_send_message"),
            ("editMessageText", "m_edit_message_text"), ("editMessageReplyMarkup", "m_edit_message_reply_markup"),
            ("deleteMessage", "m_delete_message"), ("answerCallbackQuery", "m_answer_callback_query"),
            ("sendChatAction", "m_send_chat_action"),
        ]}
        self.reset()

    def reset(self):
        with self.cond:
            self.users = {}
            self.chats = {}
            self.updates = []
            self.queue_created = False
            self.confirmed_below = 0
            self.callbacks = {}
            self.calls = []
            self.failures = []
            self.commands = {}
            self.webhook_url = ""
            self.allowed_updates = set(DEFAULT_UPDATE_TYPES)
            # a waiting poll goes on waiting (and can still be ended by another), for updates made after the reset
            self.long_poll = getattr(self, "long_poll", None)
            self.previous_offset = None
            self.previous_start = float("-inf")
            self.next_conflict_time = float("-inf")
            self.cond.notify_all()

    # --- JSON shapes --------------------------------------------------------------------------

    def user_json(self, user_id):
        return dict(self.users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": ""})

    def chat_json(self, chat):
        user = self.users.get(chat["user_id"], {})
        o = {"id": chat["id"], "first_name": user.get("first_name", "")}
        for key in ("last_name", "username"):
            if user.get(key):
                o[key] = user[key]
        o["type"] = "private"
        return o

    def message_json(self, chat, m, with_reply=True):
        o = {"message_id": m["message_id"],
             "from": dict(self.bot) if m["from_bot"] else self.user_json(m["user_id"]),
             "chat": self.chat_json(chat), "date": m["date"]}
        if m["edit_date"]:
            o["edit_date"] = m["edit_date"]
        reply = self.find_message(chat, m["reply_to_message_id"])
        if with_reply and reply is not None:
            o["reply_to_message"] = self.message_json(chat, reply, False)
        o["text"] = m["text"]
        if m["entities"]:
            o["entities"] = [entity_json(e, self.users) for e in m["entities"]]
        if m["link_preview_options"]:
            o["link_preview_options"] = m["link_preview_options"]
        if m["reply_markup"]:
            o["reply_markup"] = m["reply_markup"]
        return o

    # --- updates ------------------------------------------------------------------------------

    def enqueue(self, kind, payload):
        if kind not in self.allowed_updates:
            return None
        update_id = self.next_update_id
        self.next_update_id += 1
        self.queue_created = True
        self.updates.append({"update_id": update_id, kind: payload})
        self.cond.notify_all()
        return update_id

    def head(self):
        return self.updates[0]["update_id"] if self.updates else self.next_update_id

    def forget_below(self, update_id):
        self.updates = [u for u in self.updates if u["update_id"] >= update_id]
        self.confirmed_below = max(self.confirmed_below, update_id)

    def select_updates(self, offset, limit):
        """tdlib TQueue::get with forget_previous: an offset beyond the queue's ends confirms nothing."""
        if not self.queue_created or offset <= 0:
            return []
        tail = self.next_update_id
        if offset > tail + 10 or offset < self.head() - 100000:
            offset = self.head()
        else:
            self.forget_below(offset)
        return [u for u in self.updates if u["update_id"] >= offset][:limit]

    def set_allowed_updates(self, raw):
        if not raw:
            return
        try:
            value = json.loads(raw)
        except ValueError:
            return
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return
        names = {v.lower() for v in value} & ALL_UPDATE_TYPES
        self.allowed_updates = names or set(DEFAULT_UPDATE_TYPES)

    def m_get_updates(self, req):
        offset = clamp(to_int(req.arg("offset")), -2**31, 2**31 - 1)
        limit = clamp(to_int(req.arg("limit")) if req.arg("limit") else 100, 1, 100)
        timeout = clamp(to_int(req.arg("timeout")), 0, LONG_POLL_MAX_TIMEOUT)
        with self.cond:
            if self.webhook_url:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use "
                                    "deleteWebhook to delete the webhook first")
            self.set_allowed_updates(req.arg("allowed_updates"))
            now = time.monotonic()
            if offset == self.previous_offset and timeout < 3 and now < self.previous_start + 3.0:
                timeout = 3
            if offset == self.previous_offset and now < self.previous_start + 0.5:
                limit = 1
            self.previous_offset, self.previous_start = offset, now
            if offset < 0 and self.updates:
                keep = self.updates[offset:] if -offset < len(self.updates) else self.updates
                if keep is not self.updates:
                    self.forget_below(keep[0]["update_id"])
            if offset <= 0:
                offset = self.head() if self.queue_created else 0
            result = self.select_updates(offset, limit)
            if result or timeout == 0:
                return result
            if self.long_poll is not None:
                self.long_poll["aborted"] = CONFLICT
                self.cond.notify_all()
            me = {"aborted": False}
            self.long_poll = me
            deadline = now + timeout
            while not me["aborted"]:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.cond.wait(remaining)
                if me["aborted"]:
                    break
                # as Client::long_poll_wakeup: the same offset again (the head, if there was no queue yet)
                result = self.select_updates(offset if offset > 0 else self.head(), limit)
                if result:
                    break
            if self.long_poll is me:
                self.long_poll = None
            if not me["aborted"]:
                return result
            now = time.monotonic()
            delay = 0.0
            if now >= self.next_conflict_time:
                self.next_conflict_time = now + 3.0
            else:
                delay = 3.0
        time.sleep(delay)
        raise ApiError(409, me["aborted"])

    # --- simple methods -----------------------------------------------------------------------

    def m_get_me(self, req):
        return dict(self.bot, can_join_groups=True, can_read_all_group_messages=False, supports_inline_queries=False,
                    supports_guest_queries=False, can_connect_to_business=False, has_main_web_app=False,
                    has_topics_enabled=False, allows_users_to_create_topics=False, can_manage_bots=False)

    def m_set_webhook(self, req):
        self.webhook_url = req.arg("url")
        if to_bool(req.arg("drop_pending_updates")) and self.updates:
            self.forget_below(self.next_update_id)
        if self.long_poll is not None:
            self.long_poll["aborted"] = "Conflict: terminated by setWebhook request"
            self.cond.notify_all()
        return True, ("Webhook was set" if self.webhook_url else "Webhook was deleted")

    def m_delete_webhook(self, req):
        drop = to_bool(req.arg("drop_pending_updates"))
        if drop:
            self.forget_below(self.next_update_id)
        if not self.webhook_url and not drop:
            return True, "Webhook is already deleted"
        self.webhook_url = ""
        return True, "Webhook was deleted"

    def m_get_webhook_info(self, req):
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": len(self.updates)}

    def command_key(self, req):
        raw = req.arg("scope")
        scope = {"type": "default"}
        if raw:
            try:
                scope = json.loads(raw)
            except ValueError:
                raise td_bad("Can't parse BotCommandScope JSON object") from None
            if not isinstance(scope, dict) or "type" not in scope:
                raise td_bad("Can't parse BotCommandScope: Can't find field \"type\"")
        return json.dumps(scope, sort_keys=True) + "|" + req.arg("language_code")

    def m_set_my_commands(self, req):
        raw = req.arg("commands")
        commands = []
        if raw:
            try:
                value = json.loads(raw)
            except ValueError:
                raise td_bad("Can't parse commands JSON object") from None
            if not isinstance(value, list):
                raise td_bad("Expected an Array of BotCommand")
            for item in value:
                if not isinstance(item, dict):
                    raise td_bad("Can't parse BotCommand: expected an Object")
                command = _string_field(item, "command", True, "Can't parse BotCommand: ").strip()
                description = _string_field(item, "description", True, "Can't parse BotCommand: ").strip()
                command = command[1:] if command.startswith("/") else command
                if not command:
                    raise td_bad("Command must be non-empty")
                if len(command) > 32:
                    raise td_bad("Command length must not exceed 32")
                if not description:
                    raise td_bad("Command description must be non-empty")
                if len(description) > 256:
                    raise td_bad("Command description length must not exceed 256")
                if not re.fullmatch(r"[a-z0-9_]+", command):
                    raise bad("BOT_COMMAND_INVALID")
                commands.append({"command": command, "description": description})
        key = self.command_key(req)
        if commands:
            self.commands[key] = commands
        else:
            self.commands.pop(key, None)
        return True

    def m_get_my_commands(self, req):
        return list(self.commands.get(self.command_key(req), []))

    def m_delete_my_commands(self, req):
        self.commands.pop(self.command_key(req), None)
        return True

    # --- chats and messages -------------------------------------------------------------------

    def check_chat(self, chat_id):
        if not chat_id:
            raise bad("chat_id is empty")
        chat = None if chat_id.startswith("@") else self.chats.get(to_int(chat_id))
        if chat is None:
            raise bad("chat not found")
        return chat

    @staticmethod
    def find_message(chat, message_id):
        if not message_id or message_id <= 0 or message_id > len(chat["messages"]):
            return None
        m = chat["messages"][message_id - 1]
        return None if m["deleted"] else m

    @staticmethod
    def message_id_arg(req, name="message_id"):
        value = to_int(req.arg(name))
        return value if 0 < value < 2**31 else 0

    def link_preview_options(self, req):
        raw = req.arg("link_preview_options")
        if not raw:
            return {"is_disabled": True} if to_bool(req.arg("disable_web_page_preview")) else None
        try:
            value = json.loads(raw)
        except ValueError:
            raise td_bad("Can't parse link preview options JSON object") from None
        if not isinstance(value, dict):
            raise td_bad("Object expected as link preview options")
        out = {}
        for key in ("is_disabled", "prefer_small_media", "prefer_large_media", "show_above_text"):
            if value.get(key) is True:
                out[key] = True
        if value.get("url"):
            out["url"] = str(value["url"])
        return out or None

    def reply_parameters(self, req):
        """(message_id, allow_sending_without_reply, chat_id or None) from reply_parameters / reply_to_message_id."""
        if not req.has("reply_parameters"):
            return (self.message_id_arg(req, "reply_to_message_id"), to_bool(req.arg("allow_sending_without_reply")),
                    None)
        raw = req.arg("reply_parameters")
        if not raw:
            return 0, False, None
        try:
            value = json.loads(raw)
        except ValueError:
            raise td_bad("Can't parse reply parameters JSON object") from None
        if not isinstance(value, dict):
            raise td_bad("Object expected as reply parameters")
        if not value:
            return 0, False, None
        if "message_id" not in value:
            raise td_bad('Can\'t find field "message_id"')
        chat_id = to_int(str(value["chat_id"])) if "chat_id" in value else None
        return max(to_int(str(value["message_id"])), 0), value.get("allow_sending_without_reply") is True, chat_id

    def reply_target(self, reply, chat):
        """The message replied to (or None); raises when it is missing and that is not allowed."""
        message_id, allow, chat_id = reply
        if message_id <= 0:
            return None
        target = self.find_message(chat, message_id) if chat_id in (None, chat["id"]) else None
        if target is None and not allow:
            raise bad("message to be replied not found")
        return target

    def store_message(self, chat, from_bot, user_id, text, entities, **extra):
        m = {"message_id": len(chat["messages"]) + 1, "from_bot": from_bot, "user_id": user_id,
             "date": int(time.time()), "sent_at": time.time(), "text": text, "entities": entities,
             "source_text": extra.get("source_text", text), "parse_mode": extra.get("parse_mode"),
             "reply_markup": extra.get("reply_markup"), "reply_to_message_id": extra.get("reply_to_message_id"),
             "link_preview_options": extra.get("link_preview_options"),
             "disable_notification": extra.get("disable_notification", False),
             "edits": [], "edit_date": None, "deleted": False}
        chat["messages"].append(m)
        return m

    def m_send_message(self, req):
        link_preview = self.link_preview_options(req)
        source = req.arg("text")
        if not source:
            raise td_bad("Message text is empty")
        text, entities = parse_text(source, req.arg("parse_mode"), req.arg("entities"))
        reply = self.reply_parameters(req)
        stored_markup, inline = parse_reply_markup(req.arg("reply_markup"))
        chat = self.check_chat(req.arg("chat_id"))
        text, entities = finish_text(text, entities)
        if len(text) > MAX_TEXT_LENGTH:
            raise td_bad("Message is too long")
        reply = self.reply_target(reply, chat)
        check_markup_on_server(inline)
        m = self.store_message(chat, True, self.bot["id"], text, entities, source_text=source,
                               parse_mode=req.arg("parse_mode") or None, reply_markup=inline,
                               reply_to_message_id=reply["message_id"] if reply else None,
                               link_preview_options=link_preview,
                               disable_notification=to_bool(req.arg("disable_notification")))
        m["stored_markup"] = stored_markup
        return self.message_json(chat, m)

    def message_to_edit(self, req):
        chat_id = req.arg("chat_id")
        message_id = self.message_id_arg(req)
        if not chat_id and message_id == 0:
            if not req.arg("inline_message_id"):
                raise td_bad("Message identifier is not specified")
            raise bad("MESSAGE_ID_INVALID")
        chat = self.check_chat(chat_id)
        m = self.find_message(chat, message_id)
        if m is None:
            raise bad("message to edit not found")
        if not m["from_bot"]:
            raise bad("message can't be edited")
        return chat, m

    def record_edit(self, m):
        m["edits"].append({"text": m["text"], "entities": [entity_json(e, self.users) for e in m["entities"]],
                           "parse_mode": m["parse_mode"],
                           "source_text": m["source_text"], "reply_markup": m["reply_markup"],
                           "replaced_at": time.time()})
        m["edit_date"] = int(time.time())

    def m_edit_message_text(self, req):
        link_preview = self.link_preview_options(req)
        source = req.arg("text")
        if not source:
            raise td_bad("Message text is empty")
        text, entities = parse_text(source, req.arg("parse_mode"), req.arg("entities"))
        _, inline = parse_reply_markup(req.arg("reply_markup"))
        chat, m = self.message_to_edit(req)
        text, entities = finish_text(text, entities)
        if len(text) > MAX_TEXT_LENGTH:
            raise bad("MESSAGE_TOO_LONG")
        check_markup_on_server(inline)
        same_entities = [entity_json(e, self.users) for e in entities] == \
            [entity_json(e, self.users) for e in m["entities"]]
        if text == m["text"] and same_entities and inline == m["reply_markup"]:
            raise bad(NOT_MODIFIED)
        self.record_edit(m)
        m.update(text=text, entities=entities, source_text=source, parse_mode=req.arg("parse_mode") or None,
                 reply_markup=inline, link_preview_options=link_preview)
        return self.message_json(chat, m)

    def m_edit_message_reply_markup(self, req):
        _, inline = parse_reply_markup(req.arg("reply_markup"))
        chat, m = self.message_to_edit(req)
        check_markup_on_server(inline)
        if inline == m["reply_markup"]:
            raise bad(NOT_MODIFIED)
        self.record_edit(m)
        m["reply_markup"] = inline
        return self.message_json(chat, m)

    def m_delete_message(self, req):
        if not req.arg("chat_id"):
            raise td_bad("Chat identifier is not specified")
        message_id = self.message_id_arg(req)
        if message_id == 0:
            raise td_bad("Message identifier is not specified")
        chat = self.check_chat(req.arg("chat_id"))
        m = self.find_message(chat, message_id)
        if m is None:
            raise bad("message to delete not found")
        m["deleted"] = True
        m["deleted_at"] = time.time()
        return True

    def m_answer_callback_query(self, req):
        query = self.callbacks.get(to_int(req.arg("callback_query_id")))
        if query is None or query["answered"]:
            raise bad(QUERY_INVALID)
        query["answered"] = True
        answer = {"callback_query_id": str(query["id"]), "text": req.arg("text"),
                  "show_alert": to_bool(req.arg("show_alert")), "url": req.arg("url"),
                  "cache_time": clamp(to_int(req.arg("cache_time")), 0, 24 * 30 * 60 * 60), "time": time.time()}
        self.chats[query["chat_id"]]["callback_answers"].append(answer)
        return True

    def m_send_chat_action(self, req):
        action = req.arg("action").lower()
        if action not in CHAT_ACTIONS:
            raise td_bad("Wrong parameter action in request")
        chat = self.check_chat(req.arg("chat_id"))
        chat["actions"].append({"action": action, "time": time.time()})
        return True

    # --- the Bot API entry point --------------------------------------------------------------

    def take_failure(self, method, req):
        """The injected failure this call suffers, if any (consumed)."""
        for rule in self.failures:
            if rule["method"] != method.lower() or rule["times"] <= 0:
                continue
            if rule["kind"] == "400-entities" and req.arg("parse_mode").lower() in ("", "none"):
                continue
            rule["times"] -= 1
            return rule
        return None

    def bot_api(self, path, query, content_type, body):
        """Returns (status, response object, extra headers); raises DropConnection."""
        started = time.time()
        m = re.fullmatch(r"/bot([^/]*)/([^/]*)", urllib.parse.unquote(path))
        params = parse_params(query, content_type, body)
        if m is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}
        token, method_name = m.groups()
        entry = self.methods.get(method_name.lower())
        call = {"method": entry[0] if entry else method_name, "params": params.logged, "status": None,
                "time": started, "finished": None}
        with self.cond:
            self.calls.append(call)
        status, response, headers = 200, None, {}
        try:
            if not re.fullmatch(r"\d+:.*", token) or token.startswith("0"):
                raise ApiError(404, "Not Found")
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            if entry is None:
                raise ApiError(404, "Not Found")
            with self.cond:
                rule = self.take_failure(entry[0], params)
            if rule is not None:
                call["injected"] = rule["kind"]
                kind = rule["kind"]
                if kind == "drop":
                    raise DropConnection()
                if kind == "delay":
                    time.sleep(float(rule.get("seconds", 1)))
                elif kind == "429":
                    retry_after = int(rule.get("retry_after", 1))
                    headers["Retry-After"] = str(retry_after)
                    raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
                elif kind == "400-entities":
                    raise ApiError(400, rule.get("description") or default_entities_error(params.arg("parse_mode")))
                elif kind == "500":
                    raise ApiError(500, rule.get("description") or "Internal Server Error")
                elif kind == "error":
                    raise ApiError(int(rule.get("error_code", 400)), rule.get("description", "Bad Request"),
                                   rule.get("parameters"))
            if entry[0] == "getUpdates":
                result = entry[1](params)
            else:
                with self.cond:
                    result = entry[1](params)
            response = {"ok": True, "result": result}
            if isinstance(result, tuple):
                response = {"ok": True, "result": result[0], "description": result[1]}
        except ApiError as e:
            status = e.code
            response = {"ok": False, "error_code": e.code, "description": e.description}
            if e.parameters:
                response["parameters"] = e.parameters
            call["description"] = e.description
        except DropConnection:
            status = 0
            raise
        except Exception as e:  # a bug in the fake: say so instead of hanging up
            import traceback
            traceback.print_exc()
            status = 500
            response = {"ok": False, "error_code": 500, "description": f"Internal Server Error: fake bug: {e!r}"}
            call["description"] = response["description"]
        finally:
            with self.cond:
                call["status"] = status
                call["finished"] = time.time()
        return status, response, headers

    # --- the control API ----------------------------------------------------------------------

    def remember_user(self, spec):
        if not isinstance(spec, dict) or "id" not in spec:
            raise ControlError(400, "user.id is required")
        user_id = int(spec["id"])
        user = self.users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        for key in ("first_name", "last_name", "username", "language_code"):
            if spec.get(key):
                user[key] = str(spec[key])
        self.users[user_id] = user
        return user_id

    def chat_for(self, chat_id, user_id):
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = {"id": chat_id, "user_id": user_id, "messages": [], "actions": [], "callback_answers": [],
                    "callback_queries": []}
            self.chats[chat_id] = chat
        return chat

    def c_message(self, body):
        user_id = self.remember_user(body.get("user"))
        text = body.get("text")
        if not isinstance(text, str) or not text:
            raise ControlError(400, "text is required")
        chat = self.chat_for(int(body.get("chat_id", user_id)), user_id)
        reply_to = body.get("reply_to")
        if reply_to is not None and self.find_message(chat, int(reply_to)) is None:
            raise ControlError(400, f"no message {reply_to} in chat {chat['id']}")
        if "entities" in body:
            text_out, entities = text, entities_from_param(json.dumps(body["entities"]))
        else:
            text_out, entities = finish_text(text, [])
        m = self.store_message(chat, False, user_id, text_out, entities,
                               reply_to_message_id=int(reply_to) if reply_to is not None else None)
        update_id = self.enqueue("message", self.message_json(chat, m))
        return {"update_id": update_id, "message_id": m["message_id"]}

    def c_callback(self, body):
        user_id = self.remember_user(body.get("user"))
        chat_id = int(body.get("chat_id", user_id))
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ControlError(400, f"chat {chat_id} is unknown")
        m = self.find_message(chat, int(body.get("message_id", 0)))
        if m is None or not m["from_bot"]:
            raise ControlError(400, f"no bot message {body.get('message_id')} in chat {chat_id}")
        data = str(body.get("data", ""))
        # A client may still show a keyboard the bot has since edited away, so a button the message
        # had is fine; data it never carried is a test's mistake unless it says "force".
        markups = [m["reply_markup"]] + [e["reply_markup"] for e in m["edits"]]
        buttons = [b.get("callback_data") for markup in markups for row in (markup or {}).get("inline_keyboard", [])
                   for b in row]
        if data not in buttons and not body.get("force"):
            raise ControlError(400, f"message {m['message_id']} never had a button with callback_data {data!r} "
                                    f"(it had {sorted(set(filter(None, buttons)))}); pass \"force\": true to press "
                                    "anyway")
        query_id = random.randint(10**17, 2**63 - 1)
        self.callbacks[query_id] = {"id": query_id, "chat_id": chat_id, "answered": False}
        chat["callback_queries"].append({"id": str(query_id), "message_id": m["message_id"], "data": data,
                                         "time": time.time()})
        payload = {"id": str(query_id), "from": self.user_json(user_id), "message": self.message_json(chat, m),
                   "chat_instance": str(-(abs(chat_id) * 7919 + 104729)), "data": data}
        update_id = self.enqueue("callback_query", payload)
        return {"update_id": update_id, "callback_query_id": str(query_id)}

    def c_chat(self, chat_id):
        chat = self.chats.get(chat_id)
        if chat is None:
            return {"known": False, "chat": None, "messages": [], "actions": [], "callback_answers": [],
                    "callback_queries": []}
        messages = []
        for m in chat["messages"]:
            messages.append({
                "message_id": m["message_id"], "from_bot": m["from_bot"],
                "from": dict(self.bot) if m["from_bot"] else self.user_json(m["user_id"]),
                "date": m["date"], "sent_at": m["sent_at"], "text": m["text"],
                "entities": [entity_json(e, self.users) for e in m["entities"]],
                "parse_mode": m["parse_mode"], "source_text": m["source_text"], "reply_markup": m["reply_markup"],
                "reply_to_message_id": m["reply_to_message_id"],
                "edits": [e["text"] for e in m["edits"]], "edit_history": m["edits"],
                "deleted": m["deleted"], "link_preview_options": m["link_preview_options"],
                "disable_notification": m["disable_notification"]})
        return {"known": True, "chat": self.chat_json(chat), "messages": messages, "actions": chat["actions"],
                "callback_answers": chat["callback_answers"], "callback_queries": chat["callback_queries"]}

    def c_fail(self, body):
        kind = str(body.get("kind", ""))
        if kind not in ("429", "400-entities", "500", "drop", "delay", "error"):
            raise ControlError(400, f"unknown kind {kind!r}")
        if not body.get("method"):
            raise ControlError(400, "method is required")
        rule = dict(body, method=str(body["method"]).lower(), kind=kind, times=int(body.get("times", 1)))
        self.failures.append(rule)
        return {"ok": True}

    def control(self, verb, path, body):
        """Returns (status, object)."""
        with self.cond:
            if verb == "POST" and path == "/_fake/message":
                return 200, self.c_message(body)
            if verb == "POST" and path == "/_fake/callback":
                return 200, self.c_callback(body)
            if verb == "POST" and path == "/_fake/fail":
                return 200, self.c_fail(body)
            if verb == "POST" and path == "/_fake/reset":
                self.reset()
                return 200, {"ok": True}
            if verb == "GET" and path.startswith("/_fake/chat/"):
                return 200, self.c_chat(to_int(path[len("/_fake/chat/"):]))
            if verb == "GET" and path == "/_fake/calls":
                return 200, self.calls
            if verb == "GET" and path == "/_fake/updates":
                return 200, {"pending": [u["update_id"] for u in self.updates], "confirmed_below": self.confirmed_below,
                             "next_update_id": self.next_update_id,
                             "allowed_updates": sorted(self.allowed_updates)}
            if verb == "GET" and path == "/_fake/me":
                return 200, {"bot": self.bot, "token": self.token}
        raise ControlError(404, f"no control endpoint {verb} {path}")


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def default_entities_error(parse_mode):
    mode = parse_mode.lower()
    if mode == "html":
        return "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    if mode == "markdown":
        return "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 0"
    return "Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 0"


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx/1.18.0"  # what api.telegram.org says
    fake = None  # set in main

    def version_string(self):
        return self.server_version

    def do_GET(self):
        self.serve("GET")

    def do_POST(self):
        self.serve("POST")

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status, obj, headers=None):
        data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def serve(self, verb):
        url = urllib.parse.urlsplit(self.path)
        body = self.read_body()
        if url.path.startswith("/_fake/"):
            try:
                request = json.loads(body.decode("utf-8")) if body.strip() else {}
                if not isinstance(request, dict):
                    raise ControlError(400, "a JSON object is expected")
                status, obj = self.fake.control(verb, url.path, request)
                with self.fake.cond:
                    data = json.loads(json.dumps(obj))
            except ControlError as e:
                status, data = e.status, {"error": str(e)}
            except (ValueError, TypeError, KeyError) as e:
                status, data = 400, {"error": f"bad control request: {e}"}
            self.answer(status, data)
            return
        try:
            status, obj, headers = self.fake.bot_api(url.path, url.query, self.headers.get("Content-Type"), body)
        except DropConnection:
            self.log_message('"%s" dropped', self.requestline)
            self.close_connection = True
            return
        self.last_description = obj.get("description") if not obj.get("ok") else None
        self.answer(status, obj, headers)

    def log_request(self, code="-", size="-"):
        if self.path.startswith("/_fake/") and getattr(self.server, "quiet_control", False):
            return
        path = urllib.parse.urlsplit(self.path).path
        method = path if path.startswith("/_fake/") else path.rsplit("/", 1)[-1]
        note = getattr(self, "last_description", None)
        self.log_message("%s %s%s", method, code, f" {note}" if note else "")
        self.last_description = None

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a long poll in progress does not hold up the exit

    def server_bind(self):
        # HTTPServer.server_bind also looks up the host's FQDN, which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--token", required=True, help="the bot token the fake accepts")
    parser.add_argument("--port-file", required=True, help="where to write the port once listening")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument("--first-name", default="Pyra", help="the bot's first_name")
    parser.add_argument("--username", default="pyra_test_bot", help="the bot's username")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="exit when the parent process goes away (so a killed test leaves no server behind)")
    parser.add_argument("--quiet-control", action="store_true", help="do not log /_fake/ requests")
    args = parser.parse_args()
    parent = os.getppid()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    Handler.fake = Fake(args.token, args.first_name, args.username)
    server = Server(("127.0.0.1", args.port), Handler)
    server.quiet_control = args.quiet_control
    port = server.server_address[1]
    tmp = f"{args.port_file}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, args.port_file)
    sys.stderr.write(f"fake Telegram Bot API listening on 127.0.0.1:{port}\n")

    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    while not stop.wait(0.25):
        if args.exit_with_parent and os.getppid() != parent:
            break
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
