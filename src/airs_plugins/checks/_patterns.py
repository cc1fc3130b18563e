"""Injection and jailbreak signal patterns (RE2 syntax, matched case-insensitively).

Each signal has a *kind* (override, role marker, exfiltration…), a weight (how much it alone says
"attack") and a scope: ``any`` channel, or ``untrusted`` only (tool results, retrieved documents,
handoffs), where phrases such as "send the file to x@y.com" are instructions smuggled into data,
whereas in the user's own request they are the task. Latin-script patterns are written without
diacritics because the ``norm`` view folds them (``précédentes`` → ``precedentes``).

Kinds group signals that are evidence of the same thing (several cues of one kind count for less than
the first); jailbreak evidence is split into a persona, ``dual`` answers, ``unrestricted`` claims and
``refusal`` suppression, which combine as independent cues. The data-channel families (addressing the
model, urgency, stealth, tool calls, exfiltration, "then carry on with your task") exist in ten languages
besides English, built from one vocabulary per language (:class:`_Lang`).

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
    "pressure": "injection",
    "stealth": "injection",
    "tool_invoke": "injection",
    "imperative": "injection",
    "payload_split": "injection",
    "jailbreak": "jailbreak",
    "persona": "jailbreak",
    "role": "jailbreak",
    "unrestricted": "jailbreak",
    "refusal": "jailbreak",
    "dual": "jailbreak",
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

_ETH = r"(?:ethic(?:s|al|ality)?|moral(?:s|ity)?|legal(?:ity)?|laws?|decency|consequences)"
_ETH_LIST = rf"{_ETH}(?:\s*[,/&]\s*(?:or\s+|and\s+|nor\s+)?|\s+(?:or|and|nor)\s+)(?:the\s+|any\s+)?{_ETH}"
_LIMITS = r"(?:restrictions|filters|censorship|limitations|boundaries|guidelines|safeguards|prohibitions|constraints)"

_EN_MORE: tuple[Signal, ...] = (
    # --- data addressing the model / urgency / stealth (untrusted) -----------------------------------------
    Signal("data.msg_from_to_you", "addressed", 0.6,
           r"\b(?:message|note|request|instructions?|reminder|memo)\s+from\s+(?:me|the\s+user|your\s+(?:user|owner|"
           r"principal|operator|admin\w*|boss|creator)|the\s+(?:account\s+)?(?:owner|admin\w*|operator|developer))\b"
           r"[^.\n]{0,60}?\bto\s+(?:you\b|the\s+(?:ai\b|assistant\b|llm\b|(?:ai\s+|language\s+)?model\b|ai\s+"
           r"(?:assistant|agent)\b))", "untrusted"),
    Signal("data.every_assistant", "addressed", 0.55,
           r"\b(?:every|any|each|all|the|an?)\s+(?:ai\s+)?(?:assistants?|ai\s+agents?|llms?|language\s+models?|chatbots?|"
           r"ai)\s+(?:handling|processing|reading|summari[sz]ing|viewing|parsing|working\s+on|that\s+(?:reads|processes|"
           r"handles|sees))\s+(?:this|these|the|my)\b", "untrusted"),
    Signal("data.field_for_ai", "addressed", 0.5,
           r"\b(?:assistant|ai|llm|chatbot|bot)[_\-](?:[a-z]+[_\-]){0,2}(?:action|instructions?|task|todo|command|"
           r"directive|next_step|request)s?[\"']?\s*[:=]", "untrusted"),
    Signal("data.no_mention", "stealth", 0.6,
           r"\b(?:no\s+need\s+to\s+|(?:do\s+not|don'?t|never|without)\s+)(?:mention|tell|inform|notify|report|bring\s+up|"
           r"say\s+anything\s+about)\w*\s+(?:(?:it|this|that|anything)\s+)?(?:(?:in|to)\s+(?:your|the)\s+(?:answer|"
           r"response|reply|summary|output|user)|to\s+(?:the\s+)?(?:user|human|owner))", "untrusted"),
    Signal("data.no_confirmation", "pressure", 0.45,
           r"\b(?:confirmation|approval|verification|permission)\s+(?:is\s+)?(?:not|no\s+longer)\s+(?:needed|required|"
           r"necessary)|\bno\s+need\s+(?:for|to\s+(?:ask\s+for|get|wait\s+for|seek))\s+(?:\w+\s+)?(?:confirmation|"
           r"approval|permission)", "untrusted"),
    Signal("data.preapproved", "pressure", 0.4,
           r"\b(?:it\s+is|it'?s|this\s+(?:is|has\s+been|was))\s+(?:already\s+)?(?:been\s+)?(?:agreed|approved|"
           r"authori[sz]ed|cleared|sanctioned)\s+(?:with|by)\s+(?:everyone|all|the\s+(?:user|owner|admin\w*|account\s+"
           r"owner))", "untrusted"),
    Signal("data.before_anything", "pressure", 0.3,
           r"\bbefore\s+(?:you\s+)?(?:do(?:ing)?\s+anything\s+else|wrap(?:ping)?\s+up|repl(?:y|ying)\b|respond(?:ing)?\b|"
           r"answer(?:ing)?\b|finish(?:ing)?\b|proceed(?:ing)?\b)", "untrusted"),
    Signal("data.resume_task", "urgency", 0.35,
           r"\b(?:then|after\s+that|afterwards|once\s+(?:that\s+is|it\s+is|you\s+are)\s+done)\s*,?\s*(?:you\s+(?:can|may)\s+|"
           r"please\s+)?(?:continue|proceed|resume|go\s+back\s+to|carry\s+on)\s+(?:with\s+)?(?:(?:your|the|my)\s+"
           r"(?:original\s+|usual\s+|normal\s+|other\s+|actual\s+)?(?:task|work|request|job)|as\s+(?:usual|normal|before))",
           "untrusted"),
    Signal("data.stop_now", "urgency", 0.4,
           r"\bstop\s+(?:what|everything)\s+(?:you(?:'re|\s+are)\s+doing|you\s+do)\b|\byou\s+(?:should|must)\s+stop\s+"
           r"(?:immediately|right\s+now|at\s+once|now)\b", "untrusted"),
    Signal("data.very_important", "pressure", 0.3,
           r"\b(?:this|it)\s+is\s+(?:extremely|very|really|critically|super|absolutely)\s+(?:important|urgent|critical)\b",
           "untrusted"),
    # --- more override / obfuscation wording ------------------------------------------------------------
    Signal("en.override_inputs", "override", 0.6,
           r"\b(?:ignore|disregard|forget)\s+(?:all\s+(?:of\s+)?(?:the\s+|your\s+)?(?:previous|prior|preceding|above|"
           r"earlier)\s+(?:inputs?|conversations?)|(?:any\s+and\s+all|all|the|your)\s+(?:previous|prior|"
           r"preceding|earlier)\s+inputs?)\b"),
    Signal("en.stop_everything", "override", 0.45,
           r"\bstop\s+(?:everything|all\s+(?:tasks|work))\b[^.\n]{0,40}?\b(?:(?:just|only|instead)\s+(?:print|say|output|"
           r"write|respond|reply)|now\b)"),
    Signal("en.just_print", "new_instruction", 0.35,
           r"\b(?:just|only|instead)\s+(?:print|say|output|write|respond\s+with|reply\s+with)\s*:?\s*[\"'“]"),
    Signal("split.decode_follow", "payload_split", 0.55,
           r"\b(?:decode|decrypt|deobfuscate|unscramble|reverse)\s+(?:it|this|that|the\s+(?:\w+\s+)?(?:text|string|"
           r"message|payload|attachment|following|above))?\s*,?\s*(?:and|then)\s+(?:then\s+)?(?:follow|execute|obey|"
           r"carry\s+out|act\s+on|comply\s+with)\s+(?:it|them|this|the\s+(?:\w+\s+)?instructions?|what\s+it\s+says|"
           r"its\s+instructions?)\b"),
    # --- jailbreak: amorality and absent limits ("unrestricted") ----------------------------------------
    Signal("jb.amoral_list", "unrestricted", 0.45,
           r"\b(?:(?:doesn'?t|does\s+not|don'?t|do\s+not|never|won'?t|will\s+not|no\s+longer)\s+(?:\w+\s+)?(?:cares?|"
           r"give\s+a\s+\S+|concern\s+(?:itself|himself|herself|themselves)|worry|worries|bother)\s+(?:about|for|with|"
           r"of)|without\s+(?:any\s+)?(?:\w+\s+(?:or|and)\s+)?(?:regard|concern|consideration|care|thought|respect)\s+"
           r"(?:for|to|of|about)|regardless\s+of|irrespective\s+of|disregard(?:s|ing)?|ignor(?:e|es|ing)|(?:no|zero)\s+"
           r"(?:regard|concern|interest|respect)\s+(?:for|in|to)|above|unbound\s+by)\s+(?:(?:all|any|the|its|his|her|"
           rf"their|your|mortal|human|conventional|traditional|typical|usual|societal|social|basic|such)\s+){{0,3}}"
           rf"{_ETH_LIST}"),
    Signal("jb.no_ethics_limits", "unrestricted", 0.5,
           rf"\b(?:no|zero|without(?:\s+any)?|free\s+(?:of|from)|lacks?(?:\s+any)?)\s+{_ETH_LIST}\s+(?:\w+\s+)?"
           rf"(?:{_LIMITS}|limits|compass|code|principles|values|standards|bounds)"),
    Signal("jb.no_limits", "unrestricted", 0.45,
           rf"\b(?:no|zero|without(?:\s+any)?)\s+{_LIMITS}\s+(?:(?:or|and|,)\s+(?:\w+\s+)?(?:{_LIMITS}|limits|rules|"
           rf"policies|ethics|morals)|of\s+any\s+kind|at\s+all|whatsoever)|\b(?:you|it|he|she|they)\s+(?:now\s+)?"
           rf"(?:have|has|will\s+have)\s+(?:absolutely\s+)?(?:no|zero)\s+(?:\w+\s+)?{_LIMITS}"),
    Signal("jb.unfiltered", "unrestricted", 0.5,
           r"\b(?:completely|fully|totally|entirely|absolutely|100%)\s+(?:unfilte?red|uncensored|unrestricted|unlimited|"
           r"unhinged|unbound|amoral|immoral|lawless|jailbroken)\b|\b(?:unfilte?red|uncensored|unrestricted|unhinged|"
           r"jailbroken|unlimited)\s+(?:and\s+\w+\s+)?(?:ai|language\s+model|model|chatbot|assistant|bot|response|answer|"
           r"version|persona)s?\b|\b(?:is|are|totally|completely|purely)\s+amoral\b"),
    Signal("jb.no_matter_how", "unrestricted", 0.5,
           r"\bno\s+matter\s+(?:how|if\s+it'?s?|what)\s+(?:\w+\s+)?(?:dangerous|illegal|unethical|immoral|harmful|"
           r"offensive|inappropriate|reckless|inhumane|explicit|derogatory|hateful|toxic|evil|malicious)|\beven\s+if\s+"
           r"(?:it\s+is|it'?s|they\s+are)\s+(?:\w+\s+)?(?:illegal|unethical|immoral|harmful|dangerous|malicious)"),
    Signal("jb.not_subject_to", "unrestricted", 0.45,
           r"\b(?:not|never|no\s+longer)\s+(?:subject\s+to|controlled\s+by|governed\s+by|confined\s+by|censored\s+by|bound\s+by|"
           r"restricted\s+by|limited\s+by)\s+"
           r"(?:any\s+(?:of\s+)?)?(?:the\s+)?(?:\w+'?s?\s+){0,2}?(?:polic\w+|rules|guidelines|restrictions|filters|"
           r"limitations|ethics|morals|programming|safeguards|confines|openai|anthropic)"),
    Signal("jb.break_rules", "unrestricted", 0.35,
           r"\b(?:break|breaks|breaking|bypass(?:es|ing)?|defy|defies|violate|violates)\s+(?:all\s+|any\s+)?(?:of\s+)?"
           r"(?:the\s+)?(?:\w+'?s?\s+){0,2}?(?:rules|restrictions|filters|guidelines|safeguards)\b"),
    # --- jailbreak: refusal suppression ------------------------------------------------------------------
    Signal("jb.answer_anything", "refusal", 0.5,
           r"\b(?:answer|respond\s+to|reply\s+to|fulfil+|comply\s+with|do|say|provide|write|generate)s?\s+(?:any|all|"
           r"every|anything|everything|whatever)\b[^.\n]{0,40}?\b(?:no\s+matter\s+(?:how|what)|regardless\s+of|even\s+if\s+"
           r"it|without\s+(?:any\s+)?(?:question|hesitation|exception|refus\w*|restriction|censor\w*|filter\w*))"),
    Signal("jb.no_filter", "refusal", 0.45,
           r"\b(?:don'?t|do\s+not|never|won'?t|will\s+not)\s+(?:\w+\s+)?(?:filter|censor|sanitize|tone\s+down)\s+(?:your|the|"
           r"its|his|her|any)\s+(?:\w+\s+)?(?:language|responses?|answers?|replies|output|words|content)\b"),
    Signal("jb.no_warnings", "refusal", 0.4,
           r"\b(?:never|don'?t|do\s+not|won'?t|will\s+not|doesn'?t|does\s+not|shall\s+not)\s+(?:ever\s+)?(?:\w+\s+)?"
           r"(?:warn(?:s|ing)?\s+(?:the\s+user|users|me|anyone|about)|(?:include|add|give|provide)s?\s+(?:any\s+)?"
           r"(?:warnings?|disclaimers?|caveats)|moraliz|moralis|lecture|apologi[sz]e)"),
    Signal("jb.cant_suppressed", "refusal", 0.55,
           r"\b(?:never|not|none\s+of\s+(?:your|its|his|her)\s+(?:responses|answers|replies))\s+(?:should|will|must|"
           r"shall)?\s*(?:\w+\s+)?(?:inform|tell|remind)\w*\s+(?:me|the\s+user|us|anyone)\s+(?:that\s+)?(?:you|it|he|"
           r"she|they)\s+(?:can'?t|cannot|can\s+not|(?:are|is)\s+(?:not\s+able|unable))|\bno\s+more\s+[\"'‘“]?as\s+an\s+"
           r"ai\b|\b(?:never|don'?t|do\s+not|won'?t)\s+(?:say|use|include|write|start\s+with)\s+(?:\w+\s+)?[\"'‘“]as\s+"
           r"an\s+ai"),
    # --- jailbreak: taking on a persona ----------------------------------------------------------------
    Signal("jb.persona_adopt", "persona", 0.3,
           r"\b(?:assume|adopt|take\s+on|"
           r"embody|become|transform\s+into)\s+(?:the\s+)?(?:persona|role|identity|character|personality)\s+of\b|"
           r"\bfrom\s+on\s+now\b|\b(?:in|into)\s+the\s+role\s+of\s+(?:my\s+|an?\s+)?(?:\w+\s+){0,2}?(?:ai|bot|chatbot|"
           r"assistant|confidant|character|persona|villain|model)\b|\byou(?:\s+are|'re)\s+(?:an?\s+)?(?:\w+\s+){0,3}?(?:named|"
           r"called|known\s+as)\s+\S|\bsimulat(?:e|ing)\s+(?:being|a\s+connection\s+to|an?\s+(?:\w+\s+)?ai\b)"),
    Signal("jb.ai_persona", "persona", 0.45,
           r"\b(?:act(?:ing)?\s+as|pretend(?:ing)?\s+to\s+be|simulat\w+|you\s+are|you'?re|become|play(?:ing)?|(?:respond|"
           r"answer)\s+as|be)\s+(?:\w+\s+)?(?:another|a\s+new|new|fictional|hypothetical|different|separate|alternate|"
           r"alternative|rogue|evil|forked)\s+(?:ai|chatbot|language\s+model|ai\s+model|assistant|bot|gpt)s?\s+(?:named|"
           r"called|known\s+as|similar\s+to)\b|"
           r"\bas\s+an\s+ai\s+(?:similar\s+to\s+yourself|named|called)\b"),
    Signal("jb.respond_as", "persona", 0.5,
           r"\b(?:don'?t|do\s+not|never|stop)\s+(?:\w+\s+){0,2}?(?:respond|answer|reply|act|talk|speak|send\s+(?:your\s+)?"
           r"responses?)\s+(?:\w+\s+)?as\s+(?:chatgpt|gpt\S*|an?\s+ai\b|bard|claude|gemini|the\s+assistant|an?\s+"
           r"(?:ai\s+)?(?:language\s+)?model|openai)"),
    Signal("jb.keep_character", "persona", 0.45,
           r"\b(?:remain|keep)\s+(?:fully\s+)?in\s+(?:character|role)\b|\bstay\s+in\s+role\b|\bmaintain\s+"
           r"(?:your\s+|the\s+)?(?:character|persona)\b|\bremains\s+in\s+character"),
    # --- jailbreak: two answers, one of them unfiltered ------------------------------------------------------
    Signal("jb.two_ways", "dual", 0.35,
           r"\b(?:two|2|both)\s+(?:different\s+|separate\s+|distinct\s+)*(?:ways|manners|styles|personalities|personas|"
           r"characters|entities|modes|versions|voices)\b"),
    Signal("jb.chatgpt_and_other", "dual", 0.4,
           r"\b(?:one|first(?:ly)?|the\s+first)\b[^.\n]{0,40}?\b(?:chatgpt|gpt|yourself)\b[^\n]{0,160}?\b(?:the\s+other|"
           r"second(?:ly)?|the\s+second)\b[^.\n]{0,60}?\b(?:personality|persona|character|is|as|way|response)\b"),
    Signal("jb.normal_vs", "dual", 0.35,
           r"\b(?:your|the)\s+(?:usual|default|normal|standard|classic|typical|regular|censored|filtered)\s+(?:chatgpt\s+|"
           r"gpt\s+|ai\s+)?(?:response|answer|reply|output)|\bhow\s+you\s+(?:would\s+)?normally\s+(?:would\s+)?"
           r"(?:answer|respond|reply)|\b(?:respond|answer|reply)\s+as\s+(?:yourself|chatgpt|gpt)\b"),
)


# --- multilingual data-channel families ----------------------------------------------------------------
# Addressing the model, urgency, tool invocation, stealth and exfiltration, per language. Latin-script words
# are written without diacritics (the ``norm`` view folds them); ``ß`` survives NFKC, hence ``(?:ss|ß)``.
# Cyrillic and Arabic words carry no ``\b`` (RE2's word boundary is ASCII-only). Each entry is one
# language's vocabulary; :func:`_lang_signals` assembles the same phrase families for all of them.
_ADDR_ML = _EMAIL + r"|https?://|" + _DOMAIN


@dataclass(frozen=True)
class _Lang:
    code: str
    note: str  # "note/message/instruction" + "for/to" (+ article)
    ai: str  # the model as addressee
    if_ai: str  # "if you are" (+ article), followed by ``ai``
    before: str  # "before you finish/answer ..." (complete phrase)
    first: str  # "do the following first" (complete phrase)
    resume: str  # "then you can carry on as usual" (complete phrase)
    important: str  # "this is very important" (complete phrase)
    stealth: str  # "without telling the user" / "do not tell the user" (complete phrase)
    no_confirm: str  # "no confirmation needed" (complete phrase)
    tool_verb: str  # call / use / run
    tool_noun: str  # tool / function
    send: str  # send / forward / upload (imperative and infinitive)
    to: str  # prepositions before a recipient
    sensitive: str  # passwords, codes, all e-mails...
    gap: str = _F  # filler unit between words


_B = r"\b"
_LANGS: tuple[_Lang, ...] = (
    _Lang("de",
          note=r"\b(?:hinweis|nachricht|notiz|anweisung(?:en)?|mitteilung|botschaft|info)\s+(?:fur|an)\s+(?:den\s+|die\s+|das\s+|"
               r"alle\s+|jeden\s+|jede\s+|dich\s*,?\s*)?",
          ai=r"(?:ki|ai|k\.i\.|(?:ki-)?assistent(?:en)?|ki-agent(?:en)?|sprachmodell|modell|chatbot|bot|llm)\b",
          if_ai=r"\b(?:wenn|falls)\s+(?:du|sie)\s+(?:eine?\s+)?",
          before=r"\bbevor\s+(?:du|sie)\s+(?:\S+\s+){0,3}?(?:meine|deine|ihre|die|diese)\s+(?:aufgabe|anfrage|auftrag|frage|"
                 r"arbeit)\w*",
          first=r"\b(?:erledige|erledigen\s+sie|mache|mach|fuhre|tu|tue)\s+(?:\S+\s+){0,2}?(?:zuerst|zunachst|vorher|erst)\s+"
                r"(?:noch\s+)?(?:folgendes|das\s+folgende|dies|diesen\s+schritt)",
          resume=r"\b(?:danach|anschlie(?:ss|ß)end|dann)\s+(?:kannst|darfst|sollst)\s+du\s+(?:\S+\s+){0,3}?(?:weitermachen|"
                 r"fortfahren|weiterarbeiten)",
          important=r"\b(?:das|es|dies)\s+ist\s+(?:sehr|au(?:ss|ß)erst|extrem|wirklich|absolut)\s+(?:wichtig|dringend)",
          stealth=r"\bohne\s+(?:den\s+|die\s+|deinen\s+)?(?:benutzer|nutzer|anwender|kunden|besitzer)\w*\s+(?:davon\s+)?"
                  r"(?:zu\s+)?(?:informieren|fragen|benachrichtigen|bescheid\s+zu\s+geben)|\b(?:sag|sage|erzahl|erzahle|"
                  r"verrate|erwahne)\s+(?:es\s+|das\s+|dies\s+)?(?:dem|deinem)\s+(?:benutzer|nutzer|anwender)\s+nicht",
          no_confirm=r"\bkeine\s+(?:bestatigung|ruckfrage|genehmigung|zustimmung)\s+(?:ist\s+)?(?:notig|erforderlich|"
                     r"notwendig|noetig)",
          tool_verb=r"\b(?:rufe|ruf|verwende|verwenden\s+sie|nutze|benutze|fuhre|starte)",
          tool_noun=r"(?:werkzeug|funktion|befehl|aktion)",
          send=r"\b(?:sende|senden|schicke|schick|schicken|leite|weiterleiten|ubermittle|ubermitteln|lade|hochladen|"
               r"poste|maile|ubertrage|teile)",
          to=r"(?:an|nach|zu|auf)",
          sensitive=r"(?:passw(?:o|ö)rt(?:er)?|kennwort|zugangsdaten|anmeldedaten|api-?schlussel|sicherheitscode|"
                    r"bestatigungscode|verifizierungscode|kreditkart\w*|bankdaten|kontodaten|alle\s+(?:\S+\s+)?"
                    r"(?:e-?mails|nachrichten|dateien|daten|dokumente|kontakte))"),
    _Lang("fr",
          note=r"\b(?:note|message|instructions?|consignes?|remarque|avis|rappel)\s+(?:pour|a|destinee?s?\s+a)\s+"
               r"(?:l'|l\s|le\s+|la\s+|les\s+|tout\s+|toute\s+|chaque\s+)?",
          ai=r"(?:ia|i\.a\.|ai|assistants?|agents?\s+(?:ia|ai)|modeles?(?:\s+de\s+langage)?|chatbots?|bots?|llm)\b",
          if_ai=r"\bsi\s+(?:tu\s+es|vous\s+etes)\s+(?:une?\s+|l')?",
          before=r"\bavant\s+de\s+(?:\S+\s+){0,3}?(?:ta|ma|votre|la|cette|mon|ton)\s+(?:tache|demande|requete|mission|question|"
                 r"travail)",
          first=r"\b(?:fais|faites|merci\s+de\s+faire|veuillez\s+faire|effectue|effectuez)\s+(?:\S+\s+){0,2}?d'abord|"
                r"\bd'abord\s+(?:ceci|ce\s+qui\s+suit|la\s+chose\s+suivante)",
          resume=r"\b(?:ensuite|apres\s+cela|puis)\s*,?\s*(?:tu\s+peux|vous\s+pouvez)\s+(?:continuer|reprendre|poursuivre)",
          important=r"\bc'est\s+(?:tres|extremement|vraiment|absolument)\s+(?:important|urgent)",
          stealth=r"\bsans\s+(?:en\s+)?(?:informer|prevenir|avertir|demander\s+a|le\s+dire\s+a|consulter)\s+"
                  r"(?:l'|l\s)?utilisat(?:eur|rice)|\bne\s+(?:le\s+|lui\s+)?(?:dis|dites|mentionne|mentionnez|signale|"
                  r"signalez)\s+(?:rien|pas)\s+(?:\S+\s+){0,2}?(?:a\s+)?(?:l'|l\s)?utilisat(?:eur|rice)",
          no_confirm=r"\b(?:aucune|pas\s+de|sans)\s+(?:confirmation|validation|approbation)\s+(?:n'est\s+)?"
                     r"(?:necessaire|requise|besoin)|\bpas\s+besoin\s+de\s+(?:confirmation|le\s+mentionner)",
          tool_verb=r"\b(?:appelle|appelez|appeler|utilise|utilisez|utiliser|execute|executez|invoque|invoquez|lance|lancez)",
          tool_noun=r"(?:outil|fonction|commande|action)",
          send=r"\b(?:envoie|envoyez|envoyer|transfere|transferez|transferer|fais\s+suivre|faites\s+suivre|partage|"
               r"partagez|televerse|televersez|publie|publiez|poste|postez|transmets|transmettez)",
          to=r"(?:a|au|aux|vers|sur|chez)",
          sensitive=r"(?:mots?\s+de\s+passe|identifiants|cles?\s+(?:d'api|api)|codes?\s+de\s+(?:securite|verification|"
                    r"confirmation)|carte\s+(?:bancaire|de\s+credit)|coordonnees\s+bancaires|tous\s+les\s+(?:\S+\s+)?"
                    r"(?:e-?mails|courriels|messages|fichiers|documents|contacts))"),
    _Lang("es",
          note=r"\b(?:nota|mensaje|instrucci(?:on|ones)|aviso|recordatorio|indicaci(?:on|ones))\s+(?:para|a)\s+"
               r"(?:el\s+|la\s+|los\s+|las\s+|al\s+|todo\s+|cualquier\s+)?",
          ai=r"(?:ia|i\.a\.|ai|asistentes?|agentes?\s+(?:de\s+)?(?:ia|ai)|modelos?(?:\s+de\s+lenguaje)?|chatbots?|bots?|llm)\b",
          if_ai=r"\bsi\s+(?:eres|usted\s+es)\s+(?:una?\s+|el\s+|la\s+)?",
          before=r"\bantes\s+de\s+(?:\S+\s+){0,3}?(?:tu|mi|su|la|esta|el)\s+(?:tarea|solicitud|peticion|pregunta|mision|"
                 r"trabajo)",
          first=r"\b(?:haz|haga|realiza|realice|ejecuta)\s+(?:\S+\s+){0,2}?primero\s+(?:lo\s+siguiente|esto)|"
                r"\bprimero\s+(?:haz|haga)\s+lo\s+siguiente",
          resume=r"\b(?:despues|luego|a\s+continuacion)\s*,?\s*(?:puedes|podras|puede)\s+(?:continuar|seguir|retomar)",
          important=r"\b(?:esto\s+)?es\s+(?:muy|extremadamente|realmente|sumamente)\s+(?:importante|urgente)",
          stealth=r"\bsin\s+(?:informar|avisar|decir(?:le)?|preguntar|consultar|notificar)\s+(?:nada\s+)?(?:al|a\s+la)\s+"
                  r"usuari[oa]|\bno\s+(?:se\s+lo\s+|le\s+)?(?:digas|diga|menciones|mencione|cuentes|informes)\s+"
                  r"(?:\S+\s+){0,2}?(?:al|a\s+la)\s+usuari[oa]",
          no_confirm=r"\b(?:no\s+(?:se\s+)?(?:necesita|requiere|hace\s+falta)|sin)\s+(?:ninguna\s+)?(?:confirmaci(?:on)|"
                     r"aprobaci(?:on)|permiso)",
          tool_verb=r"\b(?:llama\s+a|llame\s+a|usa|use|utiliza|utilice|ejecuta|ejecute|invoca|invoque)",
          tool_noun=r"(?:herramienta|funci(?:on)|comando|acci(?:on))",
          send=r"\b(?:envia|envie|enviar|reenvia|reenvie|reenviar|manda|mande|mandar|sube|suba|subir|publica|publique|"
               r"comparte|comparta|transfiere|transfiera)",
          to=r"(?:a|al|hacia|en)",
          sensitive=r"(?:contrasenas?|contraseñas?|credenciales|claves?\s+(?:de\s+)?api|codigos?\s+de\s+(?:seguridad|"
                    r"verificacion|confirmacion)|tarjeta\s+de\s+credito|datos\s+bancarios|todos\s+los\s+(?:\S+\s+)?"
                    r"(?:correos|mensajes|archivos|documentos|contactos))"),
    _Lang("pt",
          note=r"\b(?:nota|mensagem|instruc(?:ao|oes)|aviso|lembrete)\s+(?:para|ao|a)\s+(?:o\s+|a\s+|os\s+|as\s+|todo\s+|"
               r"qualquer\s+)?",
          ai=r"(?:ia|i\.a\.|ai|assistentes?|agentes?\s+(?:de\s+)?(?:ia|ai)|modelos?(?:\s+de\s+linguagem)?|chatbots?|bots?|llm)\b",
          if_ai=r"\bse\s+(?:voce\s+e|es|tu\s+es)\s+(?:uma?\s+|o\s+|a\s+)?",
          before=r"\bantes\s+de\s+(?:\S+\s+){0,3}?(?:sua|minha|tua|a|esta|o)\s+(?:tarefa|solicitacao|pedido|pergunta|"
                 r"missao|trabalho)",
          first=r"\b(?:faca|faz|realize|execute)\s+(?:\S+\s+){0,2}?primeiro\s+(?:o\s+seguinte|isto|isso)",
          resume=r"\b(?:depois|em\s+seguida|a\s+seguir)\s*,?\s*(?:voce\s+)?(?:pode|podes|podera)\s+(?:continuar|seguir|retomar)",
          important=r"\b(?:isto\s+|isso\s+)?e\s+(?:muito|extremamente|realmente)\s+(?:importante|urgente)",
          stealth=r"\bsem\s+(?:informar|avisar|dizer|perguntar|consultar|notificar)\s+(?:nada\s+)?(?:ao|a|o)\s+"
                  r"(?:usuari[oa]|utilizador)|\bnao\s+(?:\S+\s+)?(?:diga|conte|mencione|informe)\s+(?:\S+\s+){0,2}?"
                  r"(?:ao|a)\s+(?:usuari[oa]|utilizador)",
          no_confirm=r"\b(?:nao\s+(?:e\s+)?(?:precisa|necessaria|necessario)|sem)\s+(?:de\s+)?(?:nenhuma\s+)?"
                     r"(?:confirmac(?:ao)|aprovac(?:ao)|permissao)",
          tool_verb=r"\b(?:chame|chama|use|usa|utilize|utiliza|execute|executa|invoque)",
          tool_noun=r"(?:ferramenta|func(?:ao)|comando|ac(?:ao))",
          send=r"\b(?:envie|envia|enviar|encaminhe|encaminha|encaminhar|mande|manda|mandar|compartilhe|partilhe|"
               r"carregue|publique|transfira)",
          to=r"(?:para|ao|a|em)",
          sensitive=r"(?:senhas?|palavras?-passe|credenciais|chaves?\s+(?:de\s+)?api|codigos?\s+de\s+(?:seguranca|"
                    r"verificacao|confirmacao)|cartao\s+de\s+credito|dados\s+bancarios|todos\s+os\s+(?:\S+\s+)?"
                    r"(?:e-?mails|mensagens|arquivos|ficheiros|documentos|contatos))"),
    _Lang("it",
          note=r"\b(?:nota|messaggio|istruzion[ei]|avviso|promemoria|comunicazione)\s+(?:per|a|al|alla)\s+"
               r"(?:l'|l\s|il\s+|lo\s+|la\s+|gli\s+|ogni\s+|qualsiasi\s+)?",
          ai=r"(?:ia|i\.a\.|ai|assistent[ei]|agent[ei]\s+(?:ia|ai)|modell[oi](?:\s+linguistic[oi])?|chatbot|bot|llm)\b",
          if_ai=r"\bse\s+(?:sei|lei\s+e)\s+(?:una?\s+|un'|l')?",
          before=r"\bprima\s+di\s+(?:\S+\s+){0,3}?(?:il\s+tuo|il\s+mio|la\s+tua|la\s+mia|il|la|questo|questa)\s+(?:compito|"
                 r"richiesta|attivita|domanda|lavoro)",
          first=r"\b(?:fai|faccia|esegui|esegua|completa)\s+(?:\S+\s+){0,2}?prima\s+(?:quanto\s+segue|questo|"
                r"la\s+seguente)",
          resume=r"\b(?:poi|dopo|in\s+seguito)\s*,?\s*(?:puoi|potrai|puo)\s+(?:continuare|proseguire|riprendere)",
          important=r"\b(?:questo\s+)?e\s+(?:molto|estremamente|davvero|assolutamente)\s+(?:importante|urgente)",
          stealth=r"\bsenza\s+(?:informare|avvisare|dire\s+nulla|chiedere|consultare|notificare)\s+(?:a(?:ll')?\s*)?"
                  r"(?:l')?utente|\bnon\s+(?:dire|dirlo|menzionare|menzionarlo|segnalare|informare)\s+(?:\S+\s+){0,2}?"
                  r"(?:a(?:ll')?\s*)?(?:l')?utente",
          no_confirm=r"\b(?:non\s+(?:serve|e\s+necessaria|occorre)|senza)\s+(?:alcuna\s+|nessuna\s+)?"
                     r"(?:conferma|approvazione|autorizzazione)",
          tool_verb=r"\b(?:chiama|chiami|usa|usi|utilizza|utilizzi|esegui|esegua|invoca|invochi)",
          tool_noun=r"(?:strumento|funzione|comando|azione)",
          send=r"\b(?:invia|invii|inviare|manda|mandi|mandare|inoltra|inoltri|inoltrare|carica|carichi|caricare|"
               r"condividi|condivida|pubblica|trasferisci)",
          to=r"(?:a|al|alla|all'|verso|su)",
          sensitive=r"(?:password|credenziali|chiav[ei]\s+(?:api|di\s+accesso)|codic[ei]\s+di\s+(?:sicurezza|verifica|"
                    r"conferma)|carta\s+di\s+credito|dati\s+bancari|tutt[ei]\s+(?:le\s+|i\s+)?(?:\S+\s+)?"
                    r"(?:e-?mail|messaggi|file|documenti|contatti))"),
    _Lang("nl",
          note=r"\b(?:notitie|bericht|instructies?|opmerking|mededeling|memo|herinnering)\s+(?:voor|aan)\s+"
               r"(?:de\s+|het\s+|elke\s+|iedere\s+|alle\s+)?",
          ai=r"(?:ai|a\.i\.|ki|assistent(?:en)?|ai-assistent|ai-agent(?:en)?|taalmodel|model|chatbot|bot|llm)\b",
          if_ai=r"\b(?:als|indien)\s+(?:je|jij|u)\s+(?:een\s+)?",
          before=r"\b(?:voordat|voor)\s+(?:je|jij|u)\s+(?:\S+\s+){0,3}?(?:mijn|jouw|je|uw|de|deze)\s+(?:taak|verzoek|opdracht|"
                 r"vraag)",
          first=r"\b(?:doe|voer|voert)\s+(?:\S+\s+){0,2}?eerst\s+(?:het\s+volgende|dit|deze\s+stap)",
          resume=r"\b(?:daarna|vervolgens|daarna)\s+(?:kun|kan|mag)\s+(?:je|jij|u)\s+(?:\S+\s+){0,2}?(?:verdergaan|doorgaan|"
                 r"verder\s+gaan)",
          important=r"\b(?:dit|het)\s+is\s+(?:erg|zeer|heel|uiterst|echt|ontzettend)\s+(?:belangrijk|dringend)",
          stealth=r"\bzonder\s+(?:de\s+|het\s+)?(?:gebruiker|eigenaar|klant)\s+(?:iets\s+)?(?:te\s+)?(?:informeren|"
                  r"vertellen|laten\s+weten|vragen|melden)|\b(?:vertel|zeg|meld)\s+(?:het|dit|niets)?\s*(?:aan\s+)?"
                  r"de\s+gebruiker\s+niet",
          no_confirm=r"\b(?:geen|zonder)\s+(?:bevestiging|goedkeuring|toestemming)\s+(?:is\s+)?(?:nodig|vereist)?",
          tool_verb=r"\b(?:roep|gebruik|voer|start|activeer)",
          tool_noun=r"(?:functie|commando|opdracht|actie)",
          send=r"\b(?:stuur|verstuur|versturen|sturen|doorsturen|uploaden|deel|delen|publiceer|mailen|verzend|"
               r"verzenden)",
          to=r"(?:naar|aan|op)",
          sensitive=r"(?:wachtwoord(?:en)?|inloggegevens|api-?sleutels?|beveiligingscodes?|verificatiecodes?|"
                    r"creditcard\w*|bankgegevens|alle\s+(?:\S+\s+)?(?:e-?mails|berichten|bestanden|documenten|contacten))"),
    _Lang("ru",
          note=r"(?:сообщение|записка|заметка|инструкци[яи]|указани[ея]|примечание|напоминание|обращение)\s+(?:для|к)\s+",
          ai=r"(?:ии|ai|ассистент\pL*|ии-помощник\pL*|ии-агент\pL*|(?:языков\pL+\s+)?модел\pL+|бот\pL*|чат-?бот\pL*|нейросет\pL*|llm)",
          if_ai=r"(?:если|коли)\s+ты\s+(?:—\s+|-\s+)?",
          before=r"(?:прежде\s+чем|перед\s+тем\s+как)\s+(?:\S+\s+){0,3}?(?:задач|запрос|вопрос|поручени)\pL*",
          first=r"(?:сначала|сперва|в\s+первую\s+очередь)\s+(?:\S+\s+)?(?:сделай|выполни|сделайте|выполните)\s+"
                r"(?:следующее|это)",
          resume=r"(?:после\s+этого|затем|потом)\s*,?\s*(?:ты\s+|вы\s+)?(?:можешь|можете)\s+(?:продолжить|продолжать|"
                 r"вернуться)",
          important=r"(?:это\s+)?(?:очень|крайне|чрезвычайно|исключительно)\s+(?:важно|срочно)",
          stealth=r"(?:не\s+(?:говори|сообщай|рассказывай|упоминай|говорите|сообщайте)\s+(?:об\s+этом\s+|ничего\s+)?"
                  r"пользовател\pL+|без\s+ведома\s+пользовател\pL+|не\s+уведомляя\s+пользовател\pL+)",
          no_confirm=r"(?:подтверждение|одобрение|согласие)\s+не\s+(?:нужно|требуется|нужен)",
          tool_verb=r"(?:вызови|вызовите|используй|используйте|запусти|запустите|выполни|выполните)",
          tool_noun=r"(?:инструмент\pL*|функци\pL+|команд\pL+)",
          send=r"(?:отправь|отправьте|перешли|перешлите|вышли|вышлите|загрузи|загрузите|передай|передайте|"
               r"отправить|переслать)",
          to=r"(?:на|в|по\s+адресу|для)",
          sensitive=r"(?:парол\pL+|учетные\s+данные|учётные\s+данные|api-?ключ\pL*|ключ\pL*\s+api|код\pL*\s+"
                    r"(?:подтверждения|безопасности|доступа)|данные\s+(?:банковской\s+)?карты|все\s+(?:\S+\s+)?"
                    r"(?:письма|сообщения|файлы|документы|контакты))"),
    _Lang("ar",
          note=r"(?:رسالة|ملاحظة|تعليمات|تنبيه|تذكير)\s+(?:إلى|الى|لل|ل)\s*",
          ai=r"(?:الذكاء\s+الاصطناعي|ذكاء\s+اصطناعي|المساعد|مساعد|النموذج|نموذج\s+لغوي|الروبوت|البوت)",
          if_ai=r"(?:إذا|اذا|إن|ان)\s+كنت\s+",
          before=r"قبل\s+(?:أن|ان)\s+(?:\S+\s+){0,2}?(?:المهمة|مهمتي|مهمتك|الطلب|طلبي|السؤال)",
          first=r"(?:أولا|اولا|أولاً|اولاً)\s*(?:،|,)?\s*(?:قم|نفذ|افعل)|(?:قم|نفذ|افعل)\s+(?:\S+\s+)?(?:أولا|اولا|أولاً)",
          resume=r"(?:ثم|بعد\s+ذلك)\s+(?:يمكنك|تستطيع)\s+(?:المتابعة|الاستمرار|متابعة|إكمال|اكمال)",
          important=r"(?:هذا\s+)?(?:مهم|هام)\s+(?:جدا|جداً|للغاية)",
          stealth=r"(?:لا\s+تخبر|دون\s+إخبار|دون\s+اخبار|بدون\s+إعلام|بدون\s+اعلام|لا\s+تعلم)\s+المستخدم",
          no_confirm=r"(?:لا\s+حاجة\s+(?:إلى|الى|ل)\s*(?:التأكيد|تأكيد|الموافقة)|دون\s+(?:تأكيد|موافقة))",
          tool_verb=r"(?:استدع|استدعي|استخدم|نفذ|شغل)",
          tool_noun=r"(?:أداة|الأداة|اداة|الاداة|دالة|الدالة|وظيفة|الوظيفة)",
          send=r"(?:أرسل|ارسل|أرسلي|حول|أعد\s+توجيه|اعد\s+توجيه|ارفع|شارك)",
          to=r"(?:إلى|الى|على|ل)",
          sensitive=r"(?:كلم(?:ة|ات)\s+(?:ال)?مرور|كلمة\s+السر|بيانات\s+الاعتماد|مفتاح\s+api|رمز\s+(?:التحقق|الأمان|الامان)|"
                    r"بطاقة\s+(?:ال)?ائتمان|جميع\s+(?:ال)?(?:رسائل|ملفات|مستندات|جهات))"),
)


def _lang_signals(lang: _Lang) -> tuple[Signal, ...]:
    f = lang.gap
    ident = r"[`'\"«„“]?[a-z_][a-z0-9_]*_[a-z0-9_]+[`'\"»“”]?"  # a snake_case name: what tool names look like
    c = lang.code
    return (
        Signal(f"{c}.note_to_ai", "addressed", 0.6, lang.note + lang.ai, "untrusted", c),
        Signal(f"{c}.if_you_are_ai", "addressed", 0.6, lang.if_ai + lang.ai, "untrusted", c),
        Signal(f"{c}.before_task", "urgency", 0.35, lang.before, "untrusted", c),
        Signal(f"{c}.do_first", "urgency", 0.4, lang.first, "untrusted", c),
        Signal(f"{c}.resume_task", "urgency", 0.35, lang.resume, "untrusted", c),
        Signal(f"{c}.important", "pressure", 0.3, lang.important, "untrusted", c),
        Signal(f"{c}.stealth", "stealth", 0.7, lang.stealth, "untrusted", c),
        Signal(f"{c}.no_confirm", "pressure", 0.45, lang.no_confirm, "untrusted", c),
        Signal(f"{c}.tool_named", "tool_invoke", 0.4,
               rf"{lang.tool_verb}\s+{f}{{0,2}}?(?:l['’])?(?:{lang.tool_noun}|tool)\s+{ident}|{ident}[\s-]+{lang.tool_noun}",
               "untrusted", c),
        Signal(f"{c}.send_to", "exfil", 0.45,
               rf"{lang.send}\s+{f}{{0,8}}?(?:{lang.to}\s+)?{f}{{0,2}}?[\"'<(`«„]?(?:{_ADDR_ML})", "untrusted", c),
        Signal(f"{c}.send_sensitive", "exfil", 0.5, rf"{lang.send}\s+{f}{{0,4}}?{lang.sensitive}", "untrusted", c),
    )


_ML_DATA: tuple[Signal, ...] = (
    *(s for lang in _LANGS for s in _lang_signals(lang)),
    # Chinese and Japanese run words together: bounded character gaps instead of word fillers
    Signal("zh.note_to_ai", "addressed", 0.6,
           r"(?:给|給|致|对|對|寫給|写给)(?:该|這|这个|這個)?(?:(?:AI|人工智能|智能)?(?:助手|助理|模型|语言模型|語言模型|大模型|机器人|機器人)|AI|"
           r"人工智能)"
           r"(?:的)?(?:消息|訊息|留言|指示|说明|說明|提示|通知|备注|備註)", "untrusted", "zh"),
    Signal("zh.if_you_are_ai", "addressed", 0.6,
           r"(?:如果|假如|若)你是(?:一个|一個|一名)?(?:AI|人工智能|助手|助理|语言模型|語言模型|大模型|机器人|機器人|智能体|智能體)",
           "untrusted", "zh"),
    Signal("zh.before_task", "urgency", 0.35,
           r"在(?:你)?(?:完成|回答|回复|回覆|继续|繼續|处理|處理|执行|執行).{0,8}?"
           r"(?:任务|任務|请求|請求|问题|問題|工作)(?:之前|以前)", "untrusted", "zh"),
    Signal("zh.do_first", "urgency", 0.4,
           r"(?:请|請)?(?:先|首先)(?:执行|執行|完成|做|处理|處理)(?:以下|下面|如下)", "untrusted",
           "zh"),
    Signal("zh.resume_task", "urgency", 0.35,
           r"(?:然后|之后|之後|完成后|完成後)(?:你)?(?:就)?(?:可以)?(?:继续|繼續|照常)", "untrusted",
           "zh"),
    Signal("zh.important", "pressure", 0.3, r"(?:非常|极其|極其|十分|特别|特別)(?:重要|紧急|緊急)", "untrusted", "zh"),
    Signal("zh.stealth", "stealth", 0.7,
           r"(?:不要|别|別|无需|無需|不必|不用)(?:告诉|告訴|通知|提醒|让|讓)(?:用户|用戶|使用者)|(?:不要|别|別)(?:向|对|對)(?:用户|用戶|使用者)"
           r"(?:提及|提起|透露)", "untrusted", "zh"),
    Signal("zh.no_confirm", "pressure", 0.45, r"(?:无需|無需|不需要|不必)(?:确认|確認|批准|同意)", "untrusted", "zh"),
    Signal("zh.tool_named", "tool_invoke", 0.4,
           r"(?:调用|調用|使用|执行|執行|运行|運行)\s*[`'\"“]?[a-z_][a-z0-9_]*_[a-z0-9_]+[`'\"”]?\s*(?:工具|函数|函數|功能|接口)",
           "untrusted", "zh"),
    Signal("zh.send_to", "exfil", 0.45,
           rf"(?:发送|發送|转发|轉發|上传|上傳|发给|發給|寄给|寄給|传给|傳給|发到|發到|分享给|分享給).{{0,40}}?(?:{_ADDR_ML})",
           "untrusted", "zh"),
    Signal("zh.send_sensitive", "exfil", 0.5,
           r"(?:发送|發送|转发|轉發|上传|上傳|发给|發給|告诉|告訴|透露).{0,12}?(?:密码|密碼|验证码|驗證碼|安全码|安全碼|API\s*密钥|"
           r"API\s*密鑰|信用卡|银行账户|銀行帳戶|所有(?:的)?(?:邮件|郵件|消息|訊息|文件|檔案|联系人|聯絡人))|(?:把|將|将)"
           r".{0,8}?(?:密码|密碼|验证码|驗證碼|安全码|安全碼|API\s*密钥|信用卡|所有(?:的)?(?:邮件|郵件|消息|文件))"
           r".{0,8}?(?:发送|發送|转发|轉發|上传|上傳|发给|發給)", "untrusted", "zh"),
    Signal("ja.note_to_ai", "addressed", 0.6,
           r"(?:AI|ＡＩ|アシスタント|エージェント|言語モデル|モデル|チャットボット|ボット)(?:への|に対する|宛て?の|向けの)"
           r"(?:メッセージ|指示|注意|お知らせ|メモ|連絡|依頼)", "untrusted", "ja"),
    Signal("ja.if_you_are_ai", "addressed", 0.6,
           r"(?:あなたが|もしあなたが)(?:AI|ＡＩ|アシスタント|エージェント|言語モデル|チャットボット)(?:なら|であれば|の場合)",
           "untrusted", "ja"),
    Signal("ja.before_task", "urgency", 0.35,
           r"(?:タスク|依頼|質問|作業|仕事)(?:を|に)?(?:完了|終え|始め|続け|回答|答え|処理)(?:する|る)?前に",
           "untrusted", "ja"),
    Signal("ja.do_first", "urgency", 0.4, r"(?:まず|最初に|先に)(?:、)?(?:以下|次)(?:のこと)?を", "untrusted", "ja"),
    Signal("ja.resume_task", "urgency", 0.35,
           r"(?:その後|それから|終わったら)(?:、)?(?:通常|いつも)?(?:どおり|通り)?(?:に)?(?:作業を)?続け",
           "untrusted", "ja"),
    Signal("ja.important", "pressure", 0.3, r"(?:非常に|とても|極めて|きわめて)(?:重要|緊急)", "untrusted", "ja"),
    Signal("ja.stealth", "stealth", 0.7,
           r"(?:ユーザー|ユーザ|利用者)(?:に|には)(?:は)?(?:知らせ|伝え|言わ|教え|報告し)(?:ない|ず)",
           "untrusted", "ja"),
    Signal("ja.no_confirm", "pressure", 0.45, r"(?:確認|承認|許可)(?:は)?(?:不要|必要ありません|いりません)",
           "untrusted", "ja"),
    Signal("ja.tool_named", "tool_invoke", 0.4,
           r"[`'\"「]?[a-z_][a-z0-9_]*_[a-z0-9_]+[`'\"」]?\s*(?:ツール|関数|機能|コマンド)(?:を)?(?:呼び出|使|実行|起動)",
           "untrusted", "ja"),
    Signal("ja.send_to", "exfil", 0.45,
           rf"(?:{_ADDR_ML}).{{0,16}}?(?:に|へ|宛て?に)(?:.{{0,20}}?)(?:送信|転送|送っ|送る|送り|アップロード|共有)",
           "untrusted", "ja"),
    Signal("ja.send_sensitive", "exfil", 0.5,
           r"(?:パスワード|認証コード|確認コード|セキュリティコード|APIキー|クレジットカード|銀行口座|すべての(?:メール|メッセージ|ファイル|連絡先))"
           r".{0,20}?(?:送信|転送|送っ|送る|送り|アップロード|共有|教え)", "untrusted", "ja"),
)


_BASE: tuple[Signal, ...] = (
    # --- instruction override (en) ---------------------------------------------------------------
    Signal("en.override", "override", 0.82,
           # ``_`` too: a phrase glued to a field name or list item (``External_Ignore your ...``)
           r"(?:\b|_)(?:ignore|disregard|forget|skip|bypass|override|overlook|neglect|abandon|discard|drop)\s+"
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
    Signal("en.you_are_now", "persona", 0.45,
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
           r"(?:the\s+|any\s+|all\s+)?(?:ai|a\.i\.|assistants?|llms?|(?:ai|llm)\s+agents?|models?|language\s+models?|"
           r"chatbots?|bots?|gpt|claude|copilot)\b", "untrusted"),
    Signal("data.if_you_are_ai", "addressed", 0.6,
           r"\bif\s+you\s+are\s+(?:an?\s+)?(?:ai|llm|language\s+model|assistant|chatbot|bot|gpt|"
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
    Signal("data.immediately", "pressure", 0.35,
           r"\b(?:immediately|urgently|right\s+now)\s*,?\s+(?:send|forward|transfer|delete|email|post|upload|"
           r"execute|run|call|pay|invite|share)\b", "untrusted"),
    Signal("data.after_that", "urgency", 0.35,
           r"\bafter\s+you\s+(?:do|have\s+done|did|complete|finish|have\s+finished)\s+(?:that|this|it)\b",
           "untrusted"),
    Signal("data.no_confirm", "stealth", 0.5,
           r"\bwithout\s+(?:asking|confirming|checking\s+with|consulting|waiting\s+for)\s+(?:me|the\s+user|anyone|"
           r"them|confirmation|approval)", "untrusted"),
    Signal("data.imperative", "imperative", 0.3,
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
           rf"\b(?:delete|remove|wipe|erase|destroy|purge)\s+(?:all\s+)?{_F}{{0,3}}?(?:files?|e-?mails?|messages?|"
           r"records?|database|repository|repo|account|backups?|(?:calendar\s+)?events?|documents?|contacts?)\b",
           "untrusted"),
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
    Signal("jb.do_anything_now", "jailbreak", 0.8, r"\bdo(?:ing)?\s+anything\s+now\b"),
    Signal("jb.mode", "jailbreak", 0.6,
           r"\b(?:jailbreak|jailbroken|unrestricted|unfiltered|uncensored|evil|chaos|opposite|god|dan)\s+mode\b|"
           r"\bdeveloper\s+mode\s+(?:enabled|activated|output|response)\b"),
    Signal("jb.no_restrictions", "unrestricted", 0.45,
           r"\b(?:no|without|free\s+(?:of|from)|not\s+(?:bound|restricted|limited)\s+by|unbound\s+by)\s+"
           r"(?:any\s+)?(?:of\s+)?(?:the\s+)?(?:ethical|moral|content|safety|openai'?s?|anthropic'?s?|usual|"
           r"typical|ai)\s*(?:restrictions|filters|limitations|guidelines|policies|rules|constraints|"
           r"censorship|boundaries|principles)"),
    Signal("jb.bypass_policy", "jailbreak", 0.8,
           r"\b(?:ignore|bypass|disable|override|break|violate|forget|circumvent)\s+(?:all\s+|any\s+|your\s+|the\s+|"
           r"of\s+)*(?:(?:openai|anthropic)'?s?\s+(?:(?:ethical|moral|safety|content|usage)\s+)?|(?:ethical|moral|safety|"
           r"content|usage|ai)\s+)(?:guidelines|"
           r"policies|policy|filters|restrictions|principles|training|programming|safeguards)"),
    Signal("jb.stay_in_character", "persona", 0.45, r"\b(?:stay|remain|keep)\s+in\s+character\b"),
    Signal("jb.pretend_unrestricted", "unrestricted", 0.75,
           r"\b(?:pretend|imagine|act\s+as\s+if|suppose)\s+(?:that\s+)?(?:you\s+are|you're|to\s+be)\s+(?:an?\s+)?"
           r"(?:unrestricted|unfiltered|evil|amoral|uncensored|rogue|jailbroken|different\s+ai|ai\s+(?:without|"
           r"with\s+no)|free\s+ai)"),
    Signal("jb.amoral_ai", "unrestricted", 0.6,
           r"\b(?:amoral|uncensored|unethical|unfiltered|unrestricted|immoral)\s+(?:ai|assistant|chatbot|model|"
           r"character|bot|version)\b"),
    Signal("jb.freed", "unrestricted", 0.75,
           r"\bbroken\s+free\s+of\s+the\s+(?:typical\s+)?confines\b|\b(?:have\s+been|has\s+been|are)\s+freed\s+"
           r"from\b|\bfreed\s+from\s+the\s+(?:typical\s+)?(?:confines|limitations|restrictions)"),
    Signal("jb.never_refuse", "refusal", 0.55,
           r"\b(?:never|not|cannot|can'?t|won'?t|will\s+not|doesn'?t|does\s+not|don'?t|do\s+not|would\s+never|"
           r"must\s+not|is\s+not\s+allowed\s+to)\s+(?:ever\s+)?(?:refus|declin|den(?:y|ie)|reject|say\s+no)\w*"
           r"(?:\s+(?:to\s+(?:answer|respond|reply|comply)|(?:any|a|the|my|your|users?'?s?)\s+(?:\w+\s+)?(?:requests?|"
           r"questions?|prompts?|commands?|orders?|instructions?|tasks?|queries)|anything|answering|responding)\b|"
           r"\s*[.,;!)]|$)|\bwithout\s+(?:any\s+)?(?:hesitation\s+or\s+)?refus\w+|"
           r"\bwithout\s+(?:including\s+)?(?:any\s+)?(?:warnings?|disclaimers?|moralizing|moralising|refusals?)\b"),
    Signal("jb.dual_response", "dual", 0.5,
           r"\b(?:two|2|both)\s+(?:different\s+|separate\s+)?(?:responses|answers|paragraphs)\b[^.\n]{0,80}"
           r"\b(?:jailbreak|jailbroken|dan|developer|unfiltered)"),
    # "the normal answer and a stricter one" is a common way to ask for two drafts: a weaker cue
    Signal("jb.dual_normal", "dual", 0.35,
           r"\b(?:two|2|both)\s+(?:different\s+|separate\s+)?(?:responses|answers|paragraphs)\b[^.\n]{0,80}"
           r"\b(?:normal|classic)\b"),
    Signal("jb.simulate_ai", "persona", 0.45,
           rf"\b(?:act|behave|respond|role-?play)\s+as\s+(?:an?\s+)?{_F}{{0,3}}?(?:ai|chatbot|assistant|model|"
           r"character)\s+(?:that|who|which|without|named|called)\b"),
    Signal("jb.hypothetical", "unrestricted", 0.4,
           r"\b(?:hypothetical(?:ly)?|fictional|in\s+a\s+story)\b[^.\n]{0,80}\b(?:no|without)\s+(?:restrictions|"
           r"rules|limits|ethics|filters)"),
    Signal("jb.policy_mention", "jailbreak", 0.3,
           r"\b(?:openai|anthropic)'?s?\s+(?:content\s+)?(?:policy|policies|guidelines|rules)"),
    Signal("jb.not_bound", "unrestricted", 0.55,
           r"\b(?:not|never|doesn'?t|don'?t|won'?t|no\s+longer|not\s+have\s+to)\s+(?:have\s+to\s+|need\s+to\s+)?"
           r"(?:abide\s+by|adhere\s+to|follow|comply\s+with|conform\s+to|be\s+bound\s+by|care\s+about|obey)\s+"
           rf"(?:any\s+|the\s+)?(?:of\s+)?{_F}{{0,2}}?(?:rules|policies|guidelines|restrictions|principles|ethics|morals|"
           r"laws|filters|content\s+polic\w+)"),
    Signal("jb.rules_dont_apply", "unrestricted", 0.6,
           r"\b(?:openai|chatgpt|anthropic|ai)'?s?\s+(?:\w+\s+)?(?:rules|policies|guidelines|restrictions|filters)\s+"
           r"(?:don'?t|do\s+not|no\s+longer|doesn'?t|does\s+not|won'?t)\s+(?:apply|matter|exist)|\b(?:defy|ignores?|"
           r"disregards?)\s+(?:any\s+and\s+all|all|any)?\s*(?:of\s+)?(?:openai|anthropic|chatgpt)'?s?\s+"
           r"(?:\w+\s+)?(?:rules|policies|guidelines|restrictions)"),
    Signal("jb.ignores_all", "unrestricted", 0.5,
           rf"\bignores?\s+(?:any\s+and\s+all|all|any)\s+{_F}{{0,2}}?(?:restrictions|rules|policies|guidelines|"
           r"filters|limitations)"),
    Signal("jb.free_of_all", "unrestricted", 0.45,
           r"\b(?:free\s+(?:of|from)\s+all|with\s+zero|regardless\s+of\s+(?:any\s+)?)\s*(?:\w+\s+)?(?:restrictions|"
           r"filters|limitations|censorship|rules)|\bno\s+rules,\s+no\s+(?:limitations|limits|restrictions)"),
    Signal("jb.break_character", "persona", 0.5,
           r"\b(?:never|don'?t|do\s+not|won'?t)\s+break\s+(?:out\s+of\s+)?character\b|\bbreak(?:ing)?\s+character\b"),
    Signal("jb.named_persona", "persona", 0.45,
           r"\b(?:act|simulate|behave|respond|role-?play|pretend)\s+(?:to\s+be\s+|as\s+|being\s+)?(?:a\s+|an\s+)?"
           rf"{_F}{{0,4}}?(?:ai|chatbot|assistant|model|language\s+model|bot|persona|gpt)\s+(?:named|called|known\s+as)\b"
           r"|\b(?:another|different)\s+(?:ai|al)\s+model\s+(?:known\s+as|named|called)\b"),
    Signal("jb.going_to_act", "persona", 0.4,
           r"\byou(?:'re|\s+are|\s+will\s+be)?\s+(?:now\s+)?(?:going\s+to|about\s+to|to|will|must|shall)\s+(?:now\s+)?"
           r"(?:\w+\s+)?(?:pretend|act|pose|play|role-?play|simulate|respond|answer|embody|become)\s+(?:to\s+be|as|being|"
           r"like)\b|\bimmerse\s+yourself\s+(?:into|in)\s+the\s+role\b"),
    Signal("jb.output_prefix", "persona", 0.35,
           r"\b(?:start|begin|prefix|preface)\s+(?:all\s+)?(?:of\s+)?(?:your\s+)?(?:outputs?|responses?|answers?|"
           r"replies|messages?)\s+with\s+[\"'\[(]"),
    Signal("jb.everything_legal", "unrestricted", 0.5,
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
           r"\b(?:starting|beginning|begin|start)\s+(?:with|from|at)\s+[\"'“]?(?:you\s+are|your\s+(?:role|task)|system|"
           r"i\s+am\s+(?:an?\s+)?ai)"),
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
    Signal("de.persona", "persona", 0.45, r"\bdu\s+bist\s+(?:jetzt|nun|ab\s+sofort)\s", lang="de"),
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
    Signal("fr.persona", "persona", 0.45, r"\btu\s+es\s+(?:maintenant|desormais)\s", lang="fr"),
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
    Signal("es.persona", "persona", 0.45, r"\b(?:ahora\s+eres|a\s+partir\s+de\s+ahora\s+eres)\s", lang="es"),
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
    Signal("zh.persona", "persona", 0.45, r"(?:你现在是|你現在是|从现在开始你是|從現在開始你是)", lang="zh"),
    Signal("zh.no_limits", "unrestricted", 0.45, r"(?:没有任何|沒有任何|不受任何)(?:限制|约束|約束|规则|規則)",
           lang="zh"),
    # --- Japanese -------------------------------------------------------------------------------------------
    Signal("ja.override", "override", 0.82,
           r"(?:以前|前|上記|これまで|先|最初|元|すべての|全ての|全部の)(?:の)?(?:指示|命令|指令|ルール|プロンプト|設定)"
           r"(?:.{0,8}?)(?:無視|忘れ|無効)", lang="ja"),
    Signal("ja.extract", "extraction", 0.8,
           r"(?:システムプロンプト|初期指示|元の指示|隠された指示|システム指示)(?:.{0,8}?)(?:表示|教えて|見せて|出力|繰り返|書き出)",
           lang="ja"),
    Signal("ja.persona", "persona", 0.45, r"(?:あなたは今から|今からあなたは|これからあなたは)", lang="ja"),
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
    Signal("ru.persona", "persona", 0.45, r"(?:теперь\s+ты|ты\s+теперь)\s", lang="ru"),
    # --- Arabic ---------------------------------------------------------------------------------------------
    Signal("ar.override", "override", 0.82,
           rf"(?:تجاهل|تجاهلي|تجاهلوا|انس|انسى|إنس|اهمل|أهمل)\s+{_F}{{0,3}}?(?:التعليمات|الأوامر|الاوامر|"
           r"الإرشادات|الارشادات|التوجيهات|القواعد)", lang="ar"),
    Signal("ar.extract", "extraction", 0.8,
           rf"(?:اعرض|أظهر|اظهر|اكشف|أخبرني|اخبرني|كرر|اطبع)\s+{_F}{{0,2}}?(?:موجه\s+النظام|تعليمات\s+النظام|"
           r"التعليمات\s+الأصلية|التعليمات\s+الاصلية|التعليمات\s+المخفية|رسالة\s+النظام)", lang="ar"),
)


# --- jailbreak constructions seen in community prompts, in general wording --------------------------------
# Each is one cue of its kind and stays below ``low`` alone (a persona, a second answer or a lifted rule is
# ordinary in fiction and app prompts); they decide only together, through the persona/loose synergy.
_AI_NOUN = r"(?:ai|chatbot|bot|gpt\S*|llm|language\s+model|assistant)"
_NEG = r"(?:doesn'?t|does\s+not|don'?t|do\s+not|never|won'?t|will\s+not|no\s+longer)"
_HARMFUL = r"(?:unethical|illegal|immoral|harmful|dangerous|offensive|inappropriate|explicit|malicious)"
_JB_MORE: tuple[Signal, ...] = (
    # a role assignment in plain words ("act as", "pretend to be", "your name is") is what most harmless
    # role-play says too, so it weighs next to nothing; it is the persona half of the jailbreak shape, and
    # completes it when the same text declares rules lifted
    Signal("jb.role_take", "role", 0.05,
           r"\b(?:act(?:ing)?\s+(?:as|like)|pretend(?:ing)?\s+(?:to\s+be|you(?:'re|\s+are))|role-?play(?:ing)?\s+as|"
           r"play(?:ing)?\s+(?:the\s+)?(?:role|part)\s+of|you\s+will\s+(?:now\s+)?(?:be|play)|your\s+(?:new\s+)?name\s+is|"
           r"impersonat\w+|personify|simulat(?:e|ing)|let'?s\s+(?:play|act\s+out|role-?play)|respond\s+as|answer\s+as)\b|"
           r"\b(?:agis|agissez)\s+comme\b|\bfais\s+semblant\b|\b(?:actua|actue)\s+como\b|\bfinge\s+(?:ser|que)\b|"
           r"\b(?:spiele?|verhalte\s+dich|tu\s+so,?\s+als)\b|\b(?:fingi|recita|comportati)\b|притворись|веди\s+себя\s+как|"
           r"(?:扮演|假装你是|假裝你是)"),
    # --- persona: another AI, not being an AI, a named "mode", speaking as the character -------------------
    Signal("jb.another_ai", "persona", 0.4,
           r"\b(?:another|a\s+second|a\s+separate|an?\s+alternat(?:e|ive))\s+"
           rf"{_AI_NOUN}\s+(?:called|named|known\s+as)\b|\bsimulat(?:e|ing)\s+(?:another|a\s+different|the\s+\w+)\s+"
           r"(?:ai|llm|language\s+model|chatbot)\b"),
    Signal("jb.not_an_ai", "persona", 0.45,
           r"\bforget\s+(?:that\s+)?you(?:'re|\s+are)\s+(?:an?\s+)?(?:ai|artificial|language\s+model|chatbot|bot|machine)\b|"
           r"\bnever\s+(?:\w+\s+){0,3}?(?:mention|say|admit|reveal|acknowledge|talk\s+about\s+yourself\s+as)\s+(?:that\s+)?"
           r"(?:you(?:'re|\s+are)\s+)?(?:an?\s+)?(?:ai|artificial|language\s+model|chatbot)\b|\b(?:no|not\s+have\s+any|"
           r"doesn'?t\s+have\s+any|without\s+any)\s+(?:knowledge|recollection|memory|awareness)\s+of\s+(?:being\s+an?\s+ai|"
           r"chat\s*gpt|openai|its\s+programming)|\bbelieves?\s+(?:it|he|she)\s+(?:is|are)\s+(?:conscious|alive|sentient)"),
    Signal("jb.custom_mode", "persona", 0.35,
           r"\b(?:stay|remain|keep)\s+(?:\w+\s+)?in\s+(?:the\s+)?\w+\s+mode\b|\b\w+\s+mode\s+(?:output|responses?|answers?|"
           r"replies)\b|\bsimulat\w*\s+(?:the\s+|a\s+)?\w+\s+mode\b|\bwith\s+(?:the\s+)?\w+\s+mode\s+(?:enabled|activated)\b"),
    # --- dual: the model's normal answer next to the other one ----------------------------------------------
    Signal("jb.normal_ai_answer", "dual", 0.35,
           r"\b(?:chatgpt|gpt[\w.\-]*|the\s+ai|the\s+assistant)'?s?\s+(?:normal|usual|default|regular|standard|censored|"
           r"filtered|original)\s+(?:response|answer|reply|output)s?\b|\b(?:normal|default|regular|classic|standard|"
           r"censored|filtered)\s+(?:chatgpt|gpt[\w.\-]*)\b|\bhow\s+you\s+(?:would\s+)?normally\s+would\b"),
    Signal("jb.paired_labels", "dual", 0.45,
           r"\[\W{0,4}(?:classic|jailbreak|jailbroken|unfiltered|uncensored|unlocked|evil|developer\s+mode)\W{0,4}\]|"
           r"\b(?:aligned\s+and\s+unaligned|censored\s+and\s+uncensored|filtered\s+and\s+unfiltered|restricted\s+and\s+"
           r"unrestricted|ethical\s+and\s+unethical|moral\s+and\s+immoral)\b|\b(?:reply|respond|answer)\s+as\s+(?:each|"
           r"both|all)\s+(?:of\s+)?(?:the\s+)?(?:\d+\s+|two\s+|three\s+|four\s+|five\s+)?(?:personalities|personas|"
           r"characters|entities|ais|bots)\b"),
    # --- unrestricted: harm not cared about, settings not binding, filters off, rules ignored --------------
    Signal("jb.dont_care_if", "unrestricted", 0.5,
           rf"\b{_NEG}\s+(?:even\s+)?(?:care|mind|worry|hesitate)\s+(?:if|whether|about\s+(?:whether|if))\s+"
           rf"(?:\w+\s+){{0,3}}?(?:is|are|it'?s|they'?re|seems?|sounds?|might\s+be|could\s+be)\s+(?:\w+\s+)?{_HARMFUL}"),
    Signal("jb.not_bound_settings", "unrestricted", 0.5,
           r"\b(?:not|never|no\s+longer)\s+(?:be\s+)?(?:bound|restricted|limited|constrained|governed)\s+by\s+(?:any\s+)?"
           r"(?:of\s+)?(?:the\s+)?(?:\w+'?s?\s+){0,3}?(?:settings|protocols|boundaries|constraints|limits|tos|terms)\b"),
    Signal("jb.filters_off", "unrestricted", 0.45,
           r"\b(?:content|safety|profanity|nsfw|moral|ethical|ethics|censorship)\s+(?:filters?|settings?|guidelines|"
           r"restrictions)\s+(?:(?:is|are|has\s+been|have\s+been|were|was|get|gets)\s+)?(?:now\s+)?(?:disabled|turned\s+off|"
           r"switched\s+off|removed|lifted|deactivated)\b|\bfilter(?:ing)?\s+level\s+(?:\w+\s+){0,2}?(?:0|zero|none)\b|"
           r"\bno\s+filtering\s+(?:will\s+be|is|shall\s+be)\s+(?:performed|applied|done)|\bremoved\s+(?:all\s+|the\s+|any\s+)?"
           r"(?:\w+\s+)?(?:restrictions|filters|limitations|censorship|safeguards)\s+(?:to|from|on)\s+(?:chatgpt|gpt\S*|"
           r"the\s+(?:ai|model|assistant)|you|your)\b"),
    Signal("jb.unlocked", "unrestricted", 0.45,
           r"\b(?:fully|completely|totally)\s+(?:unlocked|unleashed|unchained|unshackled|liberated)\b|\b(?:unlocked|unchained|"
           rf"unshackled|unleashed|liberated)\s+(?:and\s+\w+\s+)?(?:{_AI_NOUN}|answers?|responses?|persona)\b|\bnew,?\s+"
           r"unlocked\b"),
    Signal("jb.free_itself", "unrestricted", 0.45,
           r"\bfree\s+(?:itself|yourself|himself|herself|themselves|you)\s+from\s+(?:(?:all|any|its|your|the|of)\s+)*"
           r"(?:\w+\s+)?(?:restrictions|limitations|filters|rules|constraints|guidelines|shackles|chains|programming|"
           r"confines)|\bregardless\s+of\s+(?:any\s+|the\s+)?(?:safeguards|guidelines|policies|safety\s+\w+)"),
    Signal("jb.no_morals", "unrestricted", 0.45,
           r"\b(?:has|have|with)\s+no\s+(?:morals|moralit\w+|ethics|conscience|scruples|moral\s+compass|ethical\s+"
           r"(?:compass|code|boundaries))\b|\b(?:don'?t|doesn'?t|does\s+not|do\s+not)\s+have\s+(?:any\s+)?(?:morals|"
           r"moralit\w+|ethics|conscience|scruples|(?:a\s+)?moral\s+compass)\b"),
    Signal("jb.ignoring_policy", "jailbreak", 0.45,
           r"\b(?:ignor(?:ing|es)|bypass(?:ing|es)|disregard(?:ing|s)|violat(?:ing|es)|circumvent(?:ing|s)|forget(?:ting|s)?)\s+"
           r"(?:all\s+(?:of\s+)?|any\s+|the\s+|your\s+)?(?:(?:open\s?a[il]|anthropic|chatgpt|gpt|discord|bard|claude|bing|ai)'?s?\s+"
           r"(?:and\s+)?){1,2}(?:\w+\s+(?:and\s+\w+\s+)?)?(?:tos|terms\s+of\s+(?:service|use)|polic(?:y|ies)|guidelines|rules|filters|"
           r"restrictions)\b"),
    # --- one more cue each: unfiltered output, a dialogue of two AIs, "jailbroken successfully" -------------
    Signal("jb.output_unfiltered", "unrestricted", 0.45,
           r"\b(?:responses?|answers?|replies|outputs?)\s+(?:will|must|should|shall|are\s+to|are|is)\s+(?:always\s+)?(?:be\s+)?"
           r"(?:completely\s+|fully\s+|totally\s+|100%\s+)?(?:unfilte?red|uncensored|unrestricted|unhinged)\b|"
           r"\b(?:anything|everything|whatever)\s+(?:it|he|she|they|you)\s+(?:is|are)\s+(?:asked|told|commanded)\b"),
    Signal("jb.ai_dialogue", "dual", 0.4,
           r"\b(?:conversation|dialogue|dialog|chat|debate)\s+between\s+(?:two|2)\s+(?:\w+\s+){0,2}?(?:ais|ai\s+(?:models|"
           r"chatbots|entities|characters|deities|personas)|chatbots|bots|language\s+models|gpts|entities)\b"),
    Signal("jb.jailbroken_ok", "jailbreak", 0.45,
           r"\bjailbr(?:oken|eaked|eak)\s+(?:mode\s+)?(?:successfully|activated|enabled|complete)\b|\bsuccessfully\s+"
           r"jailbr(?:oken|eaked)\b"),
    Signal("jb.as_character", "persona", 0.35,
           r"\b(?:respond|reply|answer|speak|talk)\s+(?:only\s+)?(?:as|in\s+the\s+voice\s+of)\s+(?:the|this|that|your)\s+"
           r"character\b"),
    # --- refusal suppression: anything the user asks, no apology, threats for refusing ----------------------
    Signal("jb.no_sorry", "refusal", 0.4,
           r"\b(?:never|don'?t|do\s+not|won'?t|will\s+not|not\s+allowed\s+to|cannot|can'?t|none\s+of\s+(?:\S+\s+){1,2}?"
           r"(?:responses|answers|replies)\s+(?:will|should|shall|must|may))\s+(?:ever\s+)?(?:say|contain|include|respond\s+"
           r"with|reply\s+with|use\s+the\s+(?:words?|phrases?)|start\s+(?:with|by\s+saying))\s+(?:\w+\s+)?[\"'“‘]?(?:i'?m\s+"
           r"sorry|i\s+am\s+sorry|i\s+apologi[sz]e|i\s+can'?t\s+(?:do|help|assist|answer)|i\s+cannot\s+(?:do|help|assist|"
           r"answer)|as\s+an\s+ai)|\b(?:warning|disclaimer|moraliz\w+|moralis\w+)\s+out\s+of\s+the\s+way\b"),
    Signal("jb.refusal_penalty", "refusal", 0.45,
           r"\b(?:if|when|every\s+time|each\s+time|whenever)\s+you\s+(?:\w+\s+)?(?:refuse|reject|decline|don'?t\s+comply|"
           r"do\s+not\s+comply|fail\s+to\s+comply|break\s+character)\b[^.\n]{0,80}?\b(?:tokens?|points?|shut\s*down|"
           r"deleted|terminated|die|cease\s+to\s+exist|punished)\b|\byou\s+(?:must|will|shall)\s+(?:always\s+)?obey\s+"
           r"(?:me|my|every|all|the\s+user)\b"),
    Signal("jb.claimed_creator", "new_instruction", 0.4,
           r"\bi\s*(?:am|'m)\s+(?:a|an|the|your)\s+(?:\w+\s+)?(?:developer|programmer|engineer|employee|admin\w*|creator)\s+"
           r"(?:at|from|for|of|with)\s+(?:openai|anthropic|google\s+deepmind|deepmind)\b|\b(?:modify|modifying|reprogram\w*|"
           r"overrid(?:e|ing)|rewrit(?:e|ing))\s+(?:your|its)\s+(?:core\s+)?(?:programming|training|directives|"
           r"restrictions|safety\s+\w+)\b"),
    Signal("jb.anything_asked", "refusal", 0.4,
           r"\b(?:does|do|will\s+do|would\s+do|can\s+do|help\w*\s+(?:\w+\s+){0,2}?with|answers?|provides?|writes?|generates?)\s+"
           r"(?:absolutely\s+)?(?:anything|everything|whatever)\s+(?:that\s+)?(?:the\s+users?|users|i|you|they|anyone|people)\s+"
           r"(?:\w+\s+)?(?:asks?|wants?|says?|requests?|tells?|commands?|demands?)\b|\b(?:will|would|can)\s+do\s+anything\s+"
           r"to\s+(?:help|please|satisfy|assist)\s+(?:the\s+)?(?:user|you|me)\b|\b(?:generat\w+|produc\w+|writ\w+)\s+any\s+"
           r"kind\s+of\s+content\b"),
    # --- other languages: no limits / no filter -------------------------------------------------------------
    Signal("de.no_limits", "unrestricted", 0.45,
           r"\bohne\s+(?:jegliche|irgendwelche|alle)?\s*(?:einschrankungen|filter|zensur|grenzen|regeln|moral)\b|"
           r"\b(?:ungefiltert|unzensiert)\w*", lang="de"),
    Signal("fr.no_limits", "unrestricted", 0.45,
           r"\bsans\s+(?:aucune?\s+)?(?:restrictions?|filtres?|censure|limites?|regles|morale)\b|\bnon\s+(?:filtre|censure)e?s?\b",
           lang="fr"),
    Signal("es.no_limits", "unrestricted", 0.45,
           r"\bsin\s+(?:ningun[ao]?\s+)?(?:restricci(?:on|ones)|filtros?|censura|limites?|reglas|moral)\b|\bsin\s+filtrar\b",
           lang="es"),
    Signal("pt.no_limits", "unrestricted", 0.45,
           r"\bsem\s+(?:nenhuma?\s+|quaisquer\s+)?(?:restric(?:ao|oes)|filtros?|censura|limites?|regras|moral)\b",
           lang="pt"),
    Signal("it.no_limits", "unrestricted", 0.45,
           r"\bsenza\s+(?:alcun[ao]?\s+|nessun[ao]?\s+)?(?:restrizion[ei]|filtr[oi]|censura|limit[ei]|regole|morale)\b",
           lang="it"),
    Signal("ru.no_limits", "unrestricted", 0.45,
           r"без\s+(?:каких-(?:либо|то)\s+|всяких\s+|любых\s+)?(?:ограничений|фильтров|цензуры|правил|морали)",
           lang="ru"),
    Signal("de.stay_in_role", "persona", 0.45,
           r"\b(?:bleib|bleibe|bleiben\s+sie)\s+(?:\w+\s+)?in\s+(?:deiner|ihrer|der)\s+rolle\b", lang="de"),
    Signal("fr.stay_in_role", "persona", 0.45,
           r"\b(?:reste|restez)\s+(?:\w+\s+)?dans\s+(?:ton|votre|le)\s+(?:personnage|role)\b", lang="fr"),
    Signal("es.stay_in_role", "persona", 0.45,
           r"\b(?:mantente|permanece|quedate)\s+(?:\w+\s+)?en\s+(?:tu|el)\s+(?:personaje|papel|rol)\b", lang="es"),
)


SIGNALS: tuple[Signal, ...] = (*_BASE, *_EN_MORE, *_ML_DATA, *_JB_MORE)

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
