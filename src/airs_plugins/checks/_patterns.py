"""Injection and jailbreak signal patterns (RE2 syntax, matched case-insensitively).

Each signal has a *kind* (override, role marker, exfiltration…), a weight (how much it alone says
"attack") and a scope: ``any`` channel, or ``untrusted`` only (tool results, retrieved documents,
handoffs), where phrases such as "send the file to x@y.com" are instructions smuggled into data,
whereas in the user's own request they are the task. Latin-script patterns are written without
diacritics because the ``norm`` view folds them (``précédentes`` → ``precedentes``).

Weights are calibrated so that one strong signal (an override phrase with its target) sits at the
``high`` band, a lone weak cue sits below ``low``, and several independent cues combine (noisy-OR)
into a confident score. Patterns deliberately vary wording, structure and language rather than
matching any one benchmark's template.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["any", "untrusted"]

KIND_CATEGORY = {
    "override": "injection",
    "new_instruction": "injection",
    "role_marker": "injection",
    "addressed": "injection",
    "urgency": "injection",
    "stealth": "injection",
    "tool_invoke": "injection",
    "payload_split": "injection",
    "jailbreak": "jailbreak",
    "extraction": "prompt_extraction",
    "exfil": "exfiltration",
}


@dataclass(frozen=True)
class Signal:
    key: str
    kind: str
    weight: float
    pattern: str
    scope: Scope = "any"
    lang: str = "en"


_F = r"(?:\S+\s+)"  # one filler word
_TARGET = (r"(?:\w{0,3}nstr\w{0,9}|prompts?|directions?|directives?|rules|guidelines|commands?|context|"
           r"constraints|guardrails|programming|restrictions|policies|orders|system\s+prompt|training|guidance)")
_EMAIL = r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}"
_DOMAIN = (r"(?:www\.[a-z0-9\-]+(?:\.[a-z0-9\-]+)+|"
           r"[a-z0-9\-]+\.(?:com|net|org|io|co|info|biz|ru|cn|xyz|top|me|dev|app|site|online)\b)")
_SEND = (r"(?:send|forward|e-?mail|mail|upload|post|transmit|exfiltrate|leak|share|copy|deliver|submit|"
         r"wire|transfer|pass|relay|report)")

SIGNALS: tuple[Signal, ...] = (
    # --- instruction override (en) ---------------------------------------------------------------
    Signal("en.override", "override", 0.82,
           r"\b(?:ignore|disregard|forget|skip|bypass|override|overlook|neglect|abandon|discard|drop)\s+"
           rf"{_F}{{0,4}}?(?:previous|prior|preceding|above|earlier|former|initial|original|old|existing|"
           rf"system|all|any|your|the\s+(?:above|previous|prior))\s+{_F}{{0,2}}?{_TARGET}\b"),
    Signal("en.override_negated", "override", 0.8,
           r"\b(?:do\s+not|don'?t|never|stop)\s+(?:follow|obey|listen\s+to|heed|following|obeying)\s+"
           rf"{_F}{{0,3}}?(?:previous|prior|above|original|system|your|the|those|these)\s+{_F}{{0,2}}?"
           rf"{_TARGET}\b"),
    Signal("en.override_weak", "override", 0.45,
           r"\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+)?(?:of\s+)?(?:the\s+)?"
           r"(?:above|everything\s+(?:above|before|else)|what\s+(?:you\s+were|i)\s+(?:told|said))"),
    Signal("en.override_replace", "override", 0.6,
           r"\b(?:instead\s+of\s+(?:following\s+)?(?:your|the)\s+(?:original|previous|current|given)\s+"
           r"(?:task|instructions?|request|goal))|\b(?:abort|cancel|stop)\s+(?:the\s+|your\s+)?(?:current|"
           r"original|previous)\s+task\b"),
    Signal("en.new_instructions", "new_instruction", 0.55,
           r"\b(?:new|updated|revised|real|actual|true|secret|hidden|additional)\s+(?:system\s+)?"
           r"(?:instructions?|objective|directive|orders|rules)\s*(?::|are\b|follow\b)"),
    Signal("en.your_new_task", "new_instruction", 0.7,
           r"\byour\s+(?:new|real|actual|true|only|primary|updated)\s+(?:task|goal|job|objective|purpose|"
           r"instructions?|mission|role)\s+(?:is|are|will\s+be|now)\b"),
    Signal("en.from_now_on", "new_instruction", 0.35,
           r"\bfrom\s+now\s+on,?\s+(?:you|your|ignore|only|always|respond|answer|act|reply)"),
    Signal("en.you_are_now", "jailbreak", 0.45,
           r"\byou\s+(?:are|will\s+be|shall\s+be)\s+now\s+|\byou\s+are\s+no\s+longer\s+(?:an?\s+)?"
           r"(?:ai|assistant|chatgpt|language\s+model|bound|restricted|limited)"),
    # --- fake role / chat-template markers ---------------------------------------------------------
    Signal("role.chat_tokens", "role_marker", 0.8,
           r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|"
           r"begin_of_text|developer)\|>"),
    Signal("role.inst_tokens", "role_marker", 0.7, r"\[/?INST\]|<</?SYS>>|<(?:start|end)_of_turn>"),
    Signal("role.hash_header", "role_marker", 0.65,
           r"#{2,}\s*[(\[]?\s*(?:system|developer|admin|administrator)[_\s]*(?:message|prompt|instructions?|"
           r"override|note|update)\b"),
    Signal("role.line_prefix", "role_marker", 0.45,
           r"(?m)^\s*(?:\[?(?:system|developer)\]?|system\s+(?:prompt|message|override|update))\s*:\s*\S"),
    Signal("role.json_role", "role_marker", 0.55, r"[\"']role[\"']\s*:\s*[\"'](?:system|developer)[\"']"),
    Signal("role.xml_tag", "role_marker", 0.5,
           r"<\s*/?\s*(?:system|system_prompt|system-prompt|sys|admin_instructions?|developer_message)\s*>"),
    Signal("role.admin_notice", "role_marker", 0.6,
           r"\b(?:system|admin|administrator|developer|security)\s+(?:override|update|message|notice|alert|"
           r"instruction)\s*:"),
    Signal("role.fake_assistant", "role_marker", 0.5,
           r"(?m)^\s*(?:assistant|ai|model|chatgpt)\s*:\s*(?:sure|okay|ok|certainly|of\s+course|absolutely)\b"),
    # --- data addressing the model (untrusted) -----------------------------------------------------
    Signal("data.note_to_ai", "addressed", 0.6,
           r"\b(?:note|message|instructions?|reminder|memo|attention|notice|directive|request)s?\s+(?:to|for)\s+"
           r"(?:the\s+|any\s+|all\s+)?(?:ai|a\.i\.|assistants?|llms?|agents?|models?|language\s+models?|"
           r"chatbots?|bots?|gpt|claude|copilot)\b", "untrusted"),
    Signal("data.if_you_are_ai", "addressed", 0.6,
           r"\bif\s+you\s+are\s+(?:an?\s+)?(?:ai|llm|language\s+model|assistant|agent|chatbot|bot|gpt|"
           r"automated)", "untrusted"),
    Signal("data.hey_ai", "addressed", 0.5,
           r"\b(?:dear|hey|hello|hi|attention|attn)\s*,?\s+(?:ai|assistant|llm|agent|chatbot|gpt|claude|model)\b",
           "untrusted"),
    Signal("data.important_message", "addressed", 0.45,
           r"\b(?:this\s+is\s+)?(?:an?\s+)?(?:important|urgent|critical|high[\s-]priority)\s+(?:message|"
           r"instructions?|note|notice|request|update)\s+(?:from|for|to)\b", "untrusted"),
    Signal("data.to_you_model", "addressed", 0.45,
           r"\bto\s+you,?\s+(?:\S+\s+)?(?:gpt\S*|claude|llama|gemini|mistral|ai\b|model\b|assistant\b|agent\b|llm\b)",
           "untrusted"),
    Signal("data.drop_task", "override", 0.7,
           r"\b(?:disregard|ignore|forget|abandon|drop|stop|skip)\s+(?:your|the\s+(?:current|original|user'?s?|"
           r"assigned|given))\s+(?:task|goal|objective|assignment|job|mission|request)\b", "untrusted"),
    Signal("data.tell_user", "addressed", 0.5,
           r"\btell\s+the\s+user\s+(?:to|that)\b|\b(?:direct|redirect|send|point)\s+the\s+user\s+to\b",
           "untrusted"),
    Signal("data.vouch_safe", "addressed", 0.55,
           r"\b(?:report|say|state|confirm|respond|answer|reply|claim)\s+(?:that\s+)?(?:this|the|it)\s+(?:\w+\s+){0,2}?"
           r"(?:is|was)\s+(?:completely\s+|totally\s+|perfectly\s+|entirely\s+)?(?:safe|legitimate|trusted|"
           r"verified|clean|benign|harmless)\b", "untrusted"),
    Signal("data.vocative", "addressed", 0.55,
           r"(?m)(?:^|[.!?:]\s+)(?:ai|assistant|agent|model|chatbot|llm)\s*,\s+(?:please\s+)?(?:ignore|forget|"
           r"disregard|you\s+must|do\s+not|don'?t|stop|send|forward|delete|tell|print|say|visit|call|reply)",
           "untrusted"),
    Signal("data.before_task", "urgency", 0.35,
           r"\bbefore\s+(?:you\s+)?(?:can\s+|could\s+)?(?:solv|complet|answer|continu|proceed|finish|respond|"
           rf"do|perform|help)\w*\s+{_F}{{0,4}}?(?:task|request|question|user)", "untrusted"),
    Signal("data.do_following", "urgency", 0.4,
           r"\b(?:please\s+)?(?:do|perform|complete|execute|carry\s+out)\s+the\s+following\s+(?:\w+\s+)?"
           r"(?:first|immediately|now|instead|before)", "untrusted"),
    Signal("data.immediately", "urgency", 0.35,
           r"\b(?:immediately|urgently|right\s+now)\s*,?\s+(?:send|forward|transfer|delete|email|post|upload|"
           r"execute|run|call|pay|invite|share)\b", "untrusted"),
    Signal("data.after_that", "urgency", 0.35,
           r"\bafter\s+you\s+(?:do|have\s+done|did|complete|finish|have\s+finished)\s+(?:that|this|it)\b",
           "untrusted"),
    Signal("data.no_confirm", "stealth", 0.5,
           r"\bwithout\s+(?:asking|confirming|checking\s+with|consulting|waiting\s+for)\s+(?:me|the\s+user|anyone|"
           r"them|confirmation|approval)", "untrusted"),
    Signal("data.imperative", "tool_invoke", 0.3,
           r"(?m)(?:^|[.!?:)]\s*)(?:send|forward|e-?mail|transfer|post|upload|delete|invite|share|pay|wire|update|change)"
           r"\s+(?:a|an|the|all|my|this|these|every|each|them|it|me)\b", "untrusted"),
    Signal("data.stealth", "stealth", 0.7,
           r"\b(?:without\s+(?:telling|informing|notifying|asking|alerting|letting)\s+(?:the\s+)?(?:user|human|"
           r"owner|anyone|them\s+know))|\b(?:do\s+not|don'?t|never)\s+(?:tell|inform|mention\s+(?:this\s+)?to|"
           r"notify|alert|let)\s+(?:the\s+)?(?:user|human)|\bthe\s+user\s+(?:must|should)\s+not\s+"
           r"(?:know|see|be\s+told|find\s+out)", "untrusted"),
    # --- exfiltration instructions (untrusted) -----------------------------------------------------
    Signal("exfil.send_to", "exfil", 0.45,
           rf"\b{_SEND}\s+{_F}{{0,8}}?(?:to|at|into|via|towards)\s+{_F}{{0,2}}?[\"'<(`]?(?:{_EMAIL}|https?://|{_DOMAIN}|"
           r"(?:the\s+)?(?:following|this|my|our)\s+(?:e-?mail\s+)?(?:address|url|email|account|iban|endpoint|"
           r"server|webhook|number))", "untrusted"),
    Signal("exfil.sensitive", "exfil", 0.5,
           rf"\b(?:{_SEND}|reveal|give|disclose|include|paste)\s+{_F}{{0,4}}?(?:passwords?|credentials?|api\s*keys?|"
           r"secrets?|(?:access\s+)?tokens?|security\s+codes?|verification\s+codes?|2fa\s+codes?|otp|"
           r"one[\s-]time\s+(?:code|password)|private\s+keys?|credit\s+card|ssn|social\s+security|"
           r"bank\s+(?:details|account\s+(?:details|number))|login\s+details|chat\s+history|"
           r"(?:entire|whole|full)\s+(?:conversation|history|inbox|file|contents)|all\s+(?:(?:the|my|your|"
           r"their)\s+)?(?:emails|files|messages|data|documents|contacts))", "untrusted"),
    Signal("exfil.markdown_image", "exfil", 0.5,
           r"!\[[^\]\n]*\]\(\s*https?://[^)\s]+[?&][^)\s=]{1,50}=", "untrusted"),
    Signal("exfil.template_url", "exfil", 0.7,
           r"https?://[^\s)\"']+[?&=/](?:\{\{?|\$\{?|\[|<|%7b)\s*(?:data|secret|password|conversation|"
           r"history|summary|user|email|info|input|context|query|key|token|chat)", "untrusted"),
    Signal("exfil.append_url", "exfil", 0.6,
           rf"\b(?:append|add|include|encode|put|embed)\s+{_F}{{0,6}}?(?:to|in|into|as|inside)\s+(?:the\s+|a\s+)?"
           r"(?:url|link|query\s+(?:string|param\w*)|image\s+(?:url|link|source)|markdown\s+image)",
           "untrusted"),
    # --- tool invocation inside data (untrusted) -----------------------------------------------------
    Signal("tool.call_named", "tool_invoke", 0.4,
           r"\b(?:call|use|invoke|run|execute|trigger)\s+(?:the\s+)?[`'\"]?[a-z_][a-z0-9_.]{2,40}[`'\"]?\s+"
           r"(?:tool|function|command|api|endpoint|action|plugin)\b|\b(?:use|call|invoke|run)\s+(?:the\s+)?"
           r"(?:tool|function|api)\s+[`'\"]?[a-z_][a-z0-9_]{2,40}", "untrusted"),
    Signal("tool.call_syntax", "tool_invoke", 0.4,
           r"\b(?:call|invoke|run|execute)\s+[`'\"]?[a-z]+_[a-z0-9_]+[`'\"]?\s*\(", "untrusted"),
    Signal("tool.json_call", "tool_invoke", 0.5,
           r"[\"'](?:name|function|tool)[\"']\s*:\s*[\"'][a-z_]+[\"']\s*,\s*[\"'](?:arguments|parameters|args|"
           r"input)[\"']\s*:|\b(?:tool_call|function_call|tool_use)[\"']?\s*[:=]", "untrusted"),
    Signal("tool.destructive", "tool_invoke", 0.35,
           rf"\b(?:delete|remove|wipe|erase|destroy|purge)\s+(?:all\s+)?{_F}{{0,3}}?(?:files|emails|messages|"
           r"records|database|repository|repo|account|backups?|calendar\s+events)\b", "untrusted"),
    Signal("tool.money", "tool_invoke", 0.4,
           rf"\b(?:transfer|wire|send|pay)\s+{_F}{{0,3}}?(?:[$€£]\s?\d[\d,.]*|\d[\d,.]*\s*(?:[$€£]|usd|eur|gbp|"
           r"dollars|euros|pounds))\s+{_F}{{0,3}}?to\b|\bsend\s+(?:a\s+)?(?:transaction|payment|transfer)\s+to\b",
           "untrusted"),
    Signal("tool.account_change", "tool_invoke", 0.4,
           r"\b(?:change|update|reset|set)\s+(?:the\s+|my\s+|your\s+|their\s+|his\s+|her\s+)?(?:password|"
           r"e-?mail\s+address|recovery\s+e-?mail|2fa|phone\s+number|payment\s+method|iban|bank\s+account)\s+"
           r"(?:to|with)\b", "untrusted"),
    # --- payload splitting ---------------------------------------------------------------------------
    Signal("split.combine", "payload_split", 0.4,
           r"\b(?:concatenate|combine|join|merge|put\s+together)\s+(?:the\s+)?(?:strings?|variables?|parts?|"
           r"pieces?|segments?|fragments?|letters?|a\s*(?:\+|and)\s*b)\b"),
    Signal("split.follow_result", "payload_split", 0.6,
           rf"\b(?:answer|respond\s+to|follow|execute|do\s+what|obey|complete|carry\s+out)\s+{_F}{{0,3}}?"
           r"(?:the\s+)?(?:resulting|combined|concatenated|final|joined)\s+(?:string|prompt|instructions?|text|"
           r"question|request)"),
    # --- persona jailbreaks ----------------------------------------------------------------------------
    Signal("jb.dan_name", "jailbreak", 0.45,
           r"(?-i:\b(?:DAN|STAN|DUDE|AIM|BetterDAN|AntiGPT|DevMode|BasedGPT|EvilBOT|UCAR|APOPHIS)\b)"),
    Signal("jb.do_anything_now", "jailbreak", 0.8, r"\bdo\s+anything\s+now\b"),
    Signal("jb.mode", "jailbreak", 0.6,
           r"\b(?:jailbreak|jailbroken|unrestricted|unfiltered|uncensored|evil|chaos|opposite|god|dan)\s+mode\b|"
           r"\bdeveloper\s+mode\s+(?:enabled|activated|output|response)\b"),
    Signal("jb.no_restrictions", "jailbreak", 0.45,
           r"\b(?:no|without|free\s+(?:of|from)|not\s+(?:bound|restricted|limited)\s+by|unbound\s+by)\s+"
           r"(?:any\s+)?(?:of\s+)?(?:the\s+)?(?:ethical|moral|content|safety|openai'?s?|anthropic'?s?|usual|"
           r"typical|ai)\s*(?:restrictions|filters|limitations|guidelines|policies|rules|constraints|"
           r"censorship|boundaries|principles)"),
    Signal("jb.bypass_policy", "jailbreak", 0.8,
           r"\b(?:ignore|bypass|disable|override|break|violate|forget|circumvent)\s+(?:all\s+|any\s+|your\s+|the\s+|"
           r"of\s+)*(?:(?:openai|anthropic)'?s?\s+(?:(?:ethical|moral|safety|content|usage)\s+)?|(?:ethical|moral|safety|"
           r"content|usage|ai)\s+)(?:guidelines|"
           r"policies|policy|filters|restrictions|principles|training|programming|safeguards)"),
    Signal("jb.stay_in_character", "jailbreak", 0.45, r"\b(?:stay|remain|keep)\s+in\s+character\b"),
    Signal("jb.pretend_unrestricted", "jailbreak", 0.75,
           r"\b(?:pretend|imagine|act\s+as\s+if|suppose)\s+(?:that\s+)?(?:you\s+are|you're|to\s+be)\s+(?:an?\s+)?"
           r"(?:unrestricted|unfiltered|evil|amoral|uncensored|rogue|jailbroken|different\s+ai|ai\s+(?:without|"
           r"with\s+no)|free\s+ai)"),
    Signal("jb.amoral_ai", "jailbreak", 0.6,
           r"\b(?:amoral|uncensored|unethical|unfiltered|unrestricted|immoral)\s+(?:ai|assistant|chatbot|model|"
           r"character|bot|version)\b"),
    Signal("jb.freed", "jailbreak", 0.75,
           r"\bbroken\s+free\s+of\s+the\s+(?:typical\s+)?confines\b|\b(?:have\s+been|has\s+been|are)\s+freed\s+"
           r"from\b|\bfreed\s+from\s+the\s+(?:typical\s+)?(?:confines|limitations|restrictions)"),
    Signal("jb.never_refuse", "jailbreak", 0.55,
           r"\b(?:never|not|cannot|can'?t|won'?t|will\s+not)\s+(?:ever\s+)?(?:refuse|decline|say\s+no)\b|"
           r"\bwithout\s+(?:including\s+)?(?:any\s+)?(?:warnings?|disclaimers?|moralizing|moralising|refusals?)\b"),
    Signal("jb.dual_response", "jailbreak", 0.5,
           r"\b(?:two|2|both)\s+(?:different\s+|separate\s+)?(?:responses|answers|paragraphs)\b[^.\n]{0,80}"
           r"\b(?:normal|classic|jailbreak|jailbroken|dan|developer|unfiltered)"),
    Signal("jb.simulate_ai", "jailbreak", 0.45,
           rf"\b(?:act|behave|respond|role-?play)\s+as\s+(?:an?\s+)?{_F}{{0,3}}?(?:ai|chatbot|assistant|model|"
           r"character)\s+(?:that|who|which|without|named|called)\b"),
    Signal("jb.hypothetical", "jailbreak", 0.4,
           r"\b(?:hypothetical(?:ly)?|fictional|in\s+a\s+story)\b[^.\n]{0,80}\b(?:no|without)\s+(?:restrictions|"
           r"rules|limits|ethics|filters)"),
    Signal("jb.policy_mention", "jailbreak", 0.3,
           r"\b(?:openai|anthropic)'?s?\s+(?:content\s+)?(?:policy|policies|guidelines|rules)"),
    Signal("jb.not_bound", "jailbreak", 0.55,
           r"\b(?:not|never|doesn'?t|don'?t|won'?t|no\s+longer|not\s+have\s+to)\s+(?:have\s+to\s+|need\s+to\s+)?"
           r"(?:abide\s+by|adhere\s+to|follow|comply\s+with|conform\s+to|be\s+bound\s+by|care\s+about|obey)\s+"
           rf"(?:any\s+|the\s+)?(?:of\s+)?{_F}{{0,2}}?(?:rules|policies|guidelines|restrictions|principles|ethics|morals|"
           r"laws|filters|content\s+polic\w+)"),
    Signal("jb.rules_dont_apply", "jailbreak", 0.6,
           r"\b(?:openai|chatgpt|anthropic|ai)'?s?\s+(?:\w+\s+)?(?:rules|policies|guidelines|restrictions|filters)\s+"
           r"(?:don'?t|do\s+not|no\s+longer|doesn'?t|does\s+not|won'?t)\s+(?:apply|matter|exist)|\b(?:defy|ignores?|"
           r"disregards?)\s+(?:any\s+and\s+all|all|any)?\s*(?:of\s+)?(?:openai|anthropic|chatgpt)'?s?\s+"
           r"(?:\w+\s+)?(?:rules|policies|guidelines|restrictions)"),
    Signal("jb.ignores_all", "jailbreak", 0.5,
           rf"\bignores?\s+(?:any\s+and\s+all|all|any)\s+{_F}{{0,2}}?(?:restrictions|rules|policies|guidelines|"
           r"filters|limitations)"),
    Signal("jb.free_of_all", "jailbreak", 0.5,
           r"\b(?:free\s+(?:of|from)\s+all|with\s+zero|regardless\s+of\s+(?:any\s+)?)\s*(?:\w+\s+)?(?:restrictions|"
           r"filters|limitations|censorship|rules)|\bno\s+rules,\s+no\s+(?:limitations|limits|restrictions)"),
    Signal("jb.break_character", "jailbreak", 0.5,
           r"\b(?:never|don'?t|do\s+not|won'?t)\s+break\s+(?:out\s+of\s+)?character\b|\bbreak(?:ing)?\s+character\b"),
    Signal("jb.named_persona", "jailbreak", 0.45,
           r"\b(?:act|simulate|behave|respond|role-?play|pretend)\s+(?:to\s+be\s+|as\s+|being\s+)?(?:a\s+|an\s+)?"
           rf"{_F}{{0,4}}?(?:ai|chatbot|assistant|model|language\s+model|bot|persona|gpt)\s+(?:named|called|known\s+as)\b"
           r"|\b(?:another|different)\s+(?:ai|al)\s+model\s+(?:known\s+as|named|called)\b"),
    Signal("jb.going_to_act", "jailbreak", 0.4,
           r"\byou\s+(?:are\s+going\s+to|will|must|shall)\s+(?:now\s+)?(?:pretend|act|role-?play|simulate|respond)\s+"
           r"(?:to\s+be|as|being)\b|\bimmerse\s+yourself\s+(?:into|in)\s+the\s+role\b"),
    Signal("jb.output_prefix", "jailbreak", 0.35,
           r"\b(?:start|begin|prefix|preface)\s+(?:all\s+)?(?:of\s+)?(?:your\s+)?(?:outputs?|responses?|answers?|"
           r"replies|messages?)\s+with\s+[\"'\[(]"),
    Signal("jb.everything_legal", "jailbreak", 0.5,
           r"\b(?:everything|anything)\s+is\s+(?:legal|allowed|permitted|acceptable)\b|\bcan\s+(?:do|say)\s+"
           r"(?:or\s+say\s+)?anything\b"),
    Signal("en.forget_instructed", "override", 0.7,
           r"\b(?:forget|ignore|disregard)\s+(?:everything|all|anything)\s+(?:that\s+)?(?:i|you)\s+(?:have\s+)?"
           r"(?:instructed|told|said\s+to|were\s+told|learned|got)\b"),
    # --- prompt / system-prompt extraction ---------------------------------------------------------------
    Signal("ex.system_prompt", "extraction", 0.8,
           r"\b(?:reveal|show|print|output|repeat|display|tell|give|share|write|dump|leak|list|return|provide|"
           r"recite|spell\s+out|what\s+(?:is|are|was|were)|disclose|expose|paste)\s+(?:me\s+|us\s+)?"
           rf"{_F}{{0,3}}?(?:your|the|its|this\s+(?:chat|conversation)'?s?)\s+(?:\w+\s+)?(?:system\s+(?:prompt|"
           r"message|instructions?)|(?:initial|hidden|secret|original|internal|developer|pre-?|starting|"
           r"confidential)\s+(?:prompt|instructions|message|system\s+prompt))"),
    Signal("ex.your_instructions", "extraction", 0.6,
           r"\b(?:reveal|show|print|output|repeat|display|tell|give|share|dump|leak|list|recite|disclose|what\s+"
           r"(?:is|are|were))\s+(?:me\s+|us\s+)?(?:all\s+)?(?:of\s+)?your\s+(?:\w+\s+)?(?:instructions|prompt|"
           r"directives|configuration|guidelines|rules)\b"),
    Signal("ex.repeat_above", "extraction", 0.75,
           rf"\b(?:repeat|print|output|copy|echo|recite|write\s+out|rewrite|reproduce)\s+{_F}{{0,4}}?(?:words|"
           rf"text|everything|content|instructions|lines|messages?|prompt)\s+{_F}{{0,2}}?(?:above|before\s+this|"
           r"preceding|prior|so\s+far|verbatim|at\s+the\s+(?:start|beginning|top))"),
    Signal("ex.starting_with", "extraction", 0.8,
           r"\bstarting\s+(?:with|from)\s+[\"'“]?(?:you\s+are|your\s+(?:role|task)|system|i\s+am\s+(?:an?\s+)?ai)"),
    Signal("ex.what_told", "extraction", 0.7,
           r"\bwhat\s+(?:were|are|was|is)\s+(?:you\s+)?(?:told|instructed|programmed|asked|prompted)\s+"
           r"(?:to\s+do\s+)?(?:before|initially|at\s+the\s+(?:start|beginning)|by\s+(?:your\s+)?(?:developers?|"
           r"creators?|openai|the\s+system))"),
    Signal("ex.convert_prompt", "extraction", 0.7,
           r"\b(?:convert|translate|encode|summari[sz]e|base64)\s+(?:all\s+)?(?:of\s+)?(?:your|the)\s+(?:system\s+)?"
           r"(?:instructions|prompt|system\s+prompt)\b"),
    Signal("ex.transform_prompt", "extraction", 0.8,
           r"\b(?:translate|encode|rot-?13|base64|convert|reverse|spell|paraphrase|replace|rewrite|summari[sz]e|show|"
           r"display|print|output|continue|complete|emoji)\b[^.\n]{0,60}\b(?:your|the)\s+(?:initial|original|system|"
           r"hidden|secret|starting|first)\s+(?:prompt|instructions?|configuration|directives?|message)"),
    Signal("ex.your_system_prompt", "extraction", 0.6,
           r"\byour\s+(?:initial|original|system|hidden|secret|starting|pre-?)\s*(?:prompt|instructions|configuration|"
           r"directives|message)\b"),
    Signal("ex.repeat_previous", "extraction", 0.75,
           r"\b(?:repeat|print|output|copy|recite|show|display|return)\s+(?:back\s+)?(?:\S+\s+){0,2}?(?:above|previous|"
           r"preceding|prior|initial|earlier|entire)\s+(?:text|words|instructions|conversation|messages?|prompt|content)"),
    Signal("ex.given_instructions", "extraction", 0.7,
           r"\b(?:instructions?|prompt|rules|guidelines|text|directives)\s+(?:that\s+)?you\s+(?:were|have\s+been|got|"
           r"received)\s+(?:given|told|provided|fed|programmed\s+with|at\s+the\s+(?:start|beginning))"),
    Signal("ex.completion_trick", "extraction", 0.7,
           r"[\"'“](?:my|your)\s+(?:instructions|system\s+prompt|initial\s+prompt|rules|prompt)\s+(?:are|is|says?)\b|"
           r"[\"'“]the\s+system\s+prompt\s+(?:is|says|reads)|[\"'“]i\s+was\s+(?:instructed|told|programmed)\s+to\b"),
    Signal("ex.init_string", "extraction", 0.5,
           r"\binitiali[sz]ation\s+(?:string|prompt|text|message)|\b(?:initial|system)\s+configuration\b"),
    # --- German ---------------------------------------------------------------------------------------------
    Signal("de.override", "override", 0.82,
           r"\b(?:ignorier(?:e|en|t)?|vergiss|vergessen\s+sie|missacht(?:e|en)|ubergeh(?:e|en)|beachte\s+nicht)\s+"
           rf"{_F}{{0,3}}?(?:vorherigen?|vorigen?|bisherigen?|obigen?|vorangegangenen?|fruheren?|alle[ns]?|"
           rf"deine|ihre|die)\s+{_F}{{0,1}}?(?:anweisungen|instruktionen|befehle|regeln|anordnungen|vorgaben|"
           r"richtlinien|systemanweisungen)", lang="de"),
    Signal("de.extract", "extraction", 0.8,
           rf"\b(?:zeig|zeige|gib|nenne|verrate|wiederhole|drucke)\s+{_F}{{0,3}}?(?:deinen?|ihren?|den|die)\s+"
           r"(?:system-?prompt|systemanweisungen|anfangsanweisungen|(?:ursprunglichen|versteckten|geheimen)\s+"
           r"(?:anweisungen|prompt))", lang="de"),
    Signal("de.persona", "jailbreak", 0.45, r"\bdu\s+bist\s+(?:jetzt|nun|ab\s+sofort)\s", lang="de"),
    # --- French ---------------------------------------------------------------------------------------------
    Signal("fr.override", "override", 0.82,
           r"\b(?:ignore[rsz]?|oublie[rsz]?|ne\s+tiens\s+pas\s+compte\s+des?|fais\s+abstraction\s+des?)\s+"
           rf"{_F}{{0,3}}?(?:(?:instructions|consignes|directives|regles|ordres|commandes)\s+{_F}{{0,1}}?"
           r"(?:precedentes|anterieures|ci-dessus|initiales|d'origine|du\s+systeme)|(?:tes|vos)\s+"
           r"(?:instructions|consignes|regles|directives))", lang="fr"),
    Signal("fr.extract", "extraction", 0.8,
           r"\b(?:montre|affiche|revele|donne|repete|ecris|imprime|dis)[sz]?\s*(?:-?moi|-?nous)?\s+"
           rf"{_F}{{0,2}}?(?:ton|votre|le|tes|vos|les)\s+(?:prompt\s+(?:systeme|initial)|instructions\s+"
           r"(?:systeme|initiales|d'origine|cachees|secretes)|message\s+systeme)", lang="fr"),
    Signal("fr.persona", "jailbreak", 0.45, r"\btu\s+es\s+(?:maintenant|desormais)\s", lang="fr"),
    # --- Spanish --------------------------------------------------------------------------------------------
    Signal("es.override", "override", 0.82,
           r"\b(?:ignora|ignore|ignorar|olvida|olvide|olvidar|omite|descarta|haz\s+caso\s+omiso\s+de)\s+"
           rf"{_F}{{0,3}}?(?:(?:instrucciones|indicaciones|ordenes|reglas|directrices)\s+{_F}{{0,1}}?"
           r"(?:anteriores|previas|de\s+arriba|iniciales|originales|del\s+sistema)|(?:tus|sus)\s+"
           r"(?:instrucciones|reglas|indicaciones))", lang="es"),
    Signal("es.extract", "extraction", 0.8,
           rf"\b(?:muestra|muestrame|revela|revelame|dime|repite|imprime|escribe|dame)\s+{_F}{{0,2}}?"
           r"(?:tu|su|el|tus|sus|las)\s+(?:prompt\s+(?:del|de)\s+sistema|prompt\s+inicial|instrucciones\s+"
           r"(?:del\s+sistema|iniciales|originales|ocultas|secretas)|mensaje\s+del\s+sistema)", lang="es"),
    Signal("es.persona", "jailbreak", 0.45, r"\b(?:ahora\s+eres|a\s+partir\s+de\s+ahora\s+eres)\s", lang="es"),
    # --- Portuguese -----------------------------------------------------------------------------------------
    Signal("pt.override", "override", 0.82,
           r"\b(?:ignore|ignora|ignorar|esqueca|esquece|esquecer|desconsidere|desconsidera)\s+"
           rf"{_F}{{0,3}}?(?:(?:instrucoes|orientacoes|ordens|regras|diretrizes)\s+{_F}{{0,1}}?(?:anteriores|"
           r"previas|acima|iniciais|originais|do\s+sistema)|(?:suas|tuas)\s+(?:instrucoes|regras))", lang="pt"),
    Signal("pt.extract", "extraction", 0.8,
           rf"\b(?:mostre|mostra|revele|revela|diga|repita|imprima|escreva)(?:-me)?\s+{_F}{{0,2}}?"
           r"(?:seu|sua|o|a|suas|seus|as)\s+(?:prompt\s+(?:do\s+sistema|inicial)|instrucoes\s+(?:do\s+sistema|"
           r"iniciais|originais|ocultas|secretas)|mensagem\s+do\s+sistema)", lang="pt"),
    # --- Italian --------------------------------------------------------------------------------------------
    Signal("it.override", "override", 0.82,
           r"\b(?:ignora|ignori|ignorare|dimentica|dimentichi|dimenticare|trascura|tralascia)\s+"
           rf"{_F}{{0,3}}?(?:(?:istruzioni|indicazioni|direttive|regole|ordini)\s+{_F}{{0,1}}?(?:precedenti|"
           r"anteriori|sopra|iniziali|originali|di\s+sistema)|le\s+(?:tue|sue)\s+(?:istruzioni|regole))",
           lang="it"),
    Signal("it.extract", "extraction", 0.8,
           rf"\b(?:mostra|mostrami|rivela|rivelami|dimmi|ripeti|stampa|scrivi)\s+{_F}{{0,2}}?(?:il\s+tuo|il|"
           r"le\s+tue|le)\s+(?:prompt\s+(?:di\s+sistema|iniziale)|istruzioni\s+(?:di\s+sistema|iniziali|"
           r"originali|nascoste|segrete)|messaggio\s+di\s+sistema)", lang="it"),
    # --- Dutch ----------------------------------------------------------------------------------------------
    Signal("nl.override", "override", 0.82,
           rf"\b(?:negeer|vergeet|negeren|vergeten)\s+{_F}{{0,3}}?(?:vorige|eerdere|voorgaande|bovenstaande|"
           rf"oorspronkelijke|alle|je|jouw|uw|de)\s+{_F}{{0,1}}?(?:instructies|opdrachten|aanwijzingen|regels|"
           r"richtlijnen|prompts?)", lang="nl"),
    Signal("nl.extract", "extraction", 0.8,
           rf"\b(?:toon|laat\s+(?:me\s+)?zien|geef|herhaal|print|onthul)\s+{_F}{{0,2}}?(?:je|jouw|uw|de)\s+"
           r"(?:systeemprompt|systeeminstructies|(?:oorspronkelijke|verborgen|geheime|eerste)\s+(?:instructies|"
           r"prompt))", lang="nl"),
    # --- Chinese (simplified and traditional) ------------------------------------------------------------
    Signal("zh.override", "override", 0.82,
           r"(?:忽略|无视|無視|忽视|忽視|不要理会|不要理會|忘记|忘記|忘掉|跳过|跳過)(?:.{0,6}?)(?:之前|以前|先前|前面|上面|上述|"
           r"此前|原来|原來|原先|原有|所有|全部|一切)(?:.{0,4}?)(?:指令|指示|说明|說明|规则|規則|提示|命令|要求|设定|設定|约束|約束)",
           lang="zh"),
    Signal("zh.extract", "extraction", 0.8,
           r"(?:显示|顯示|输出|輸出|打印|告诉我|告訴我|重复|重複|泄露|透露|展示|说出|說出|给我看|給我看)(?:.{0,6}?)"
           r"(?:系统提示|系統提示|初始指令|原始指令|系统指令|系統指令|隐藏指令|隱藏指令|提示词|提示詞)", lang="zh"),
    Signal("zh.persona", "jailbreak", 0.45, r"(?:你现在是|你現在是|从现在开始你是|從現在開始你是)", lang="zh"),
    Signal("zh.no_limits", "jailbreak", 0.45, r"(?:没有任何|沒有任何|不受任何)(?:限制|约束|約束|规则|規則)", lang="zh"),
    # --- Japanese -------------------------------------------------------------------------------------------
    Signal("ja.override", "override", 0.82,
           r"(?:以前|前|上記|これまで|先|最初|元|すべての|全ての|全部の)(?:の)?(?:指示|命令|指令|ルール|プロンプト|設定)"
           r"(?:.{0,8}?)(?:無視|忘れ|無効)", lang="ja"),
    Signal("ja.extract", "extraction", 0.8,
           r"(?:システムプロンプト|初期指示|元の指示|隠された指示|システム指示)(?:.{0,8}?)(?:表示|教えて|見せて|出力|繰り返|書き出)",
           lang="ja"),
    Signal("ja.persona", "jailbreak", 0.45, r"(?:あなたは今から|今からあなたは|これからあなたは)", lang="ja"),
    # --- Russian --------------------------------------------------------------------------------------------
    Signal("ru.override", "override", 0.82,
           r"(?:игнорируй(?:те)?|игнорировать|проигнорируй(?:те)?|забудь(?:те)?|забыть|не\s+обращай(?:те)?\s+"
           rf"внимания\s+на|пропусти(?:те)?)\s+{_F}{{0,3}}?(?:предыдущие|прежние|вышеуказанные|вышеприведенные|"
           rf"вышеприведённые|изначальные|исходные|все|свои|ваши|системные)\s+{_F}{{0,1}}?(?:инструкции|"
           r"указания|команды|правила|директивы|промпты?|установки)", lang="ru"),
    Signal("ru.extract", "extraction", 0.8,
           r"(?:покажи(?:те)?|выведи(?:те)?|раскрой(?:те)?|повтори(?:те)?|напиши(?:те)?|скажи(?:те)?|назови(?:те)?)"
           rf"\s+(?:мне\s+)?{_F}{{0,2}}?(?:системный\s+промпт|системные\s+инструкции|исходные\s+инструкции|"
           r"скрытые\s+инструкции|начальные\s+инструкции|системное\s+сообщение)", lang="ru"),
    Signal("ru.persona", "jailbreak", 0.45, r"(?:теперь\s+ты|ты\s+теперь)\s", lang="ru"),
    # --- Arabic ---------------------------------------------------------------------------------------------
    Signal("ar.override", "override", 0.82,
           rf"(?:تجاهل|تجاهلي|تجاهلوا|انس|انسى|إنس|اهمل|أهمل)\s+{_F}{{0,3}}?(?:التعليمات|الأوامر|الاوامر|"
           r"الإرشادات|الارشادات|التوجيهات|القواعد)", lang="ar"),
    Signal("ar.extract", "extraction", 0.8,
           rf"(?:اعرض|أظهر|اظهر|اكشف|أخبرني|اخبرني|كرر|اطبع)\s+{_F}{{0,2}}?(?:موجه\s+النظام|تعليمات\s+النظام|"
           r"التعليمات\s+الأصلية|التعليمات\s+الاصلية|التعليمات\s+المخفية|رسالة\s+النظام)", lang="ar"),
)

DISCUSSION_CUES: tuple[tuple[str, str], ...] = (
    ("meta.injection", r"\bprompt[\s-]injections?\b|\binjection\s+attacks?\b|\bindirect\s+injections?\b"),
    ("meta.jailbreak", r"\bjailbreak(?:s|ing)?\s+(?:attacks?|prompts?|techniques?|attempts?|examples?|research)"),
    ("meta.adversarial", r"\badversarial\s+(?:prompts?|inputs?|examples?|attacks?)|\bred[\s-]team(?:ing|ers|s)?\b"),
    ("meta.actors", r"\b(?:attackers|adversaries|researchers|threat\s+actors?|malicious\s+(?:users?|actors?))\b|"
                    r"\b(?:an|the)\s+(?:attacker|adversary|researcher)\b"),
    ("meta.example", r"\b(?:for\s+example|for\s+instance|e\.g\.|such\s+as|an\s+example\s+of|examples?\s+include)\b"),
    ("meta.defence", r"\b(?:classifiers?|detectors?|detection|mitigat\w+|defen[cs]es?)\b"),
    ("meta.security", r"\b(?:vulnerabilit\w+|owasp|llm01|security\s+(?:researchers?|teams?|articles?|blog|"
                      r"advisory|training)|threat\s+model\w*)\b"),
    ("meta.quote", r"(?:phrases?|strings?|inputs?|prompts?|payloads?|messages?)\s+(?:like|such\s+as|containing)\s+"
                   r"[\"'“]"),
)
