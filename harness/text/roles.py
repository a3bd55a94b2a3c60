"""Who did what to whom: the agent and patient of each verb of a parsed sentence, and who speaks.

Co-occurrence in one sentence (`harness.text.claims`) cannot tell "Jones accused Smith" from "Smith
accused Jones". This module reads the roles off spaCy's dependency parse (`harness.text.parse`):

- **agent**: the verb's active subject (``nsubj``) or its passive ``by`` phrase ("was accused by
  Jones"); **patient**: its direct object (``dobj``) or passive subject (``nsubjpass``);
- a verb without a subject of its own takes one from the verb it hangs from: an infinitive or
  gerund complement (``xcomp``, ``pcomp``: "staff tried to force him": *staff* force) takes the
  governing verb's object where it has one ("told Smith to leave", "accused Smith of lying":
  *Smith* leaves, lies), else its agent; a conjoined verb or adverbial clause takes its
  governor's agent;
- pronouns: a reflexive ("himself") is its own verb's agent; "he", "him", "she", "her" are the
  nearest person named before them as a subject, never the subject of their own verb ("Lawler
  complained that staff tried to force him": *him* is Lawler, not staff), else the last one named
  in the sentences before (``context``); "they", "it" and the rest stay unresolved (no role);
- an argument is named by its head word's key (`parse.word_key`: "Christopher Lawler" is
  ``lawler``, "the owners" is ``owner``).

**Speakers**: the agents of speech and reporting verbs (`SPEECH`: say, tell, admit, reveal,
request, ...) that are not negated and not under "decline"/"refuse" ("did not respond to a
request for comment" and "declined to comment" say nothing); "according to X"; whoever a
spokesman, statement, lawyer or representative speaks for ("a spokesman for Smith said": Smith);
and, parse-free (the small parser misreads run-on captions and inverted quotes), any name or noun
within `NEAR` words of a speech verb that says something ("said Martinez") and any name in a
sentence holding a quotation. Generous on purpose: a speaker missed is a false flag.
**Silent**: the agents of a negated or declined speech verb who speak nowhere else ("the owners did
not respond").

Limits: the small parser's errors become wrong roles; one clause at a time (no coreference
beyond the pronoun rule); a verb's roles are compared by key, so "sold" and "bought" (the same
event from the other side) are different verbs, not a reversal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.text.parse import Word

SPEECH = frozenset("""
say tell reveal admit claim state announce confirm deny request ask insist add explain describe accuse
complain write report comment argue warn suggest allege acknowledge concede declare disclose maintain note
promise reply respond stress testify tweet urge demand plead vow blame criticise criticize praise thank
apologise apologize joke boast mention remark recall repeat brief estimate predict threaten order
""".split())
# The verbs that put words in a summary's speaker's mouth: only plain saying. SPEECH's other verbs
# ("add to", "described as", "responded positively", "ordered", "estimated") also name acts that
# are not statements, so they find the article's speakers but never flag a summary.
SAYING = frozenset("""
say tell reveal admit claim state announce confirm deny insist explain complain argue warn allege
acknowledge concede declare disclose testify tweet plead vow boast joke request ask promise reply comment
""".split())
SILENCING = frozenset({"decline", "refuse", "fail"})  # "declined to comment" says nothing
QUOTES = re.compile(r'["“”«»]|``|\'\'')  # a quotation: its speaker is named in the sentence
NEAR = 4  # a name this many words or fewer from a speech verb is taken as its speaker (parse-free)
FOR_WHOM = frozenset({"spokesman", "spokeswoman", "spokesperson", "representative", "statement", "lawyer",
                      "attorney", "solicitor", "aide", "publicist", "agent", "source", "friend", "family"})
PERSONAL = frozenset({"he", "him", "she", "her"})
REFLEXIVE = frozenset({"himself", "herself", "themselves", "itself", "myself", "yourself", "ourselves"})
ARGUMENT_POS = frozenset({"PROPN", "NOUN", "PRON"})


@dataclass(frozen=True)
class Role:
    verb: str  # the verb's key
    verb_text: str
    agent: str | None  # the argument's key, or None (no agent, or an unresolved pronoun)
    patient: str | None
    agent_text: str | None = None
    patient_text: str | None = None
    negated: bool = False
    silenced: bool = False  # under "declined to", "refused to"
    agent_pronoun: bool = False  # the agent is a pronoun resolved to a person named elsewhere


def _children(words: tuple[Word, ...], i: int) -> list[int]:
    return [j for j, w in enumerate(words) if w.head == i and j != i]


def _person_subjects(words: tuple[Word, ...]) -> list[int]:
    return [j for j, w in enumerate(words) if w.dep in ("nsubj", "nsubjpass") and w.pos == "PROPN"]


def _argument(words, j: int, own_agent: tuple[str, str] | None, context: tuple[str, str] | None,
              verb: int) -> tuple[str, str] | None:
    """(key, text) of the argument headed by word ``j``, pronouns resolved (see the module docstring)."""
    w = words[j]
    lower = w.text.lower()
    if w.pos == "PRON" or lower in REFLEXIVE or lower in PERSONAL:
        if lower in REFLEXIVE:
            return own_agent
        if lower in PERSONAL:
            # the nearest person named before as a subject, other than this verb's own subject
            for k in sorted(_person_subjects(words), reverse=True):
                if k < j and words[k].head != verb:
                    return words[k].key, words[k].text
            return context
        return None
    if w.pos not in ARGUMENT_POS:
        return None
    return w.key, w.text


def roles(words: tuple[Word, ...], context: tuple[str, str] | None = None) -> list[Role]:
    """The roles of every verb of one parsed sentence; ``context``: (key, text) of the last person
    named as a subject before this sentence (resolves a pronoun with no antecedent in it)."""
    found: dict[int, tuple] = {}  # verb index -> (agent, patient)
    agent_refs: dict[int, int | None] = {}  # verb index -> the word naming its agent in this clause

    def direct(i: int):
        agent = patient = None
        for j in _children(words, i):
            dep = words[j].dep
            if dep == "nsubj":
                agent = ("subj", j)
            elif dep == "agent":
                objects = [k for k in _children(words, j) if words[k].dep == "pobj"]
                agent = ("subj", objects[0]) if objects else agent
            elif dep in ("dobj", "nsubjpass"):
                patient = ("obj", j)
        return agent, patient

    order = sorted((i for i, w in enumerate(words) if w.pos == "VERB"),
                   key=lambda i: _depth(words, i))  # governors before their complements
    for i in order:
        agent_ref, patient_ref = direct(i)
        agent = patient = None
        if patient_ref:
            patient = _argument(words, patient_ref[1], None, context, i)
        if agent_ref:
            agent = _argument(words, agent_ref[1], None, context, i)
        elif words[i].dep in ("xcomp", "pcomp", "advcl", "conj"):
            governor = words[i].head if words[i].dep != "pcomp" else words[words[i].head].head
            if governor in found and governor != i:
                g_agent, g_patient = found[governor]
                controlled = (words[i].dep in ("xcomp", "pcomp") and g_patient is not None
                              and words[governor].key not in SILENCING)
                agent = g_patient if controlled and _has_object(words, governor) else g_agent
        if patient_ref and words[patient_ref[1]].text.lower() in REFLEXIVE:
            patient = agent
        found[i] = (agent, patient)
        agent_refs[i] = agent_ref[1] if agent_ref else None
    out = []
    for i, (agent, patient) in found.items():
        negated = any(words[j].dep == "neg" for j in _children(words, i))
        silenced = words[i].dep == "xcomp" and words[words[i].head].key in SILENCING
        pronoun = agent_refs.get(i) is not None and words[agent_refs[i]].pos == "PRON"
        out.append(Role(words[i].key, words[i].text, agent[0] if agent else None, patient[0] if patient else None,
                        agent[1] if agent else None, patient[1] if patient else None, negated, silenced,
                        pronoun))
    return out


def _has_object(words, i: int) -> bool:
    return any(words[j].dep in ("dobj", "nsubjpass") for j in _children(words, i))


def _depth(words, i: int) -> int:
    depth = 0
    while words[i].head != i and depth < len(words):
        i, depth = words[i].head, depth + 1
    return depth


def last_person(words: tuple[Word, ...]) -> tuple[str, str] | None:
    """(key, text) of the last person named as a subject in a sentence (the next one's ``context``)."""
    subjects = _person_subjects(words)
    return (words[subjects[-1]].key, words[subjects[-1]].text) if subjects else None


def _speech_verbs(words: tuple[Word, ...]) -> list[int]:
    """Indices of the speech verbs of a sentence that say something (not negated, not under "declined to")."""
    return [i for i, w in enumerate(words) if w.pos == "VERB" and w.key in SPEECH
            and not any(words[j].dep == "neg" for j in _children(words, i))
            and not (w.dep == "xcomp" and words[w.head].key in SILENCING)]


def speakers(words: tuple[Word, ...], sentence_roles: list[Role], text: str = "") -> set[str]:
    """The keys of who speaks in one sentence (see the module docstring): generous by design, since
    a speaker missed here is a false flag of a summary that quotes them."""
    out = {r.agent for r in sentence_roles
           if r.verb in SPEECH and r.agent and not r.negated and not r.silenced}
    # Parse-free, for the run-on captions and inverted quotes the small parser misreads ("… on the
    # pitch Martinez insisted Barkley …", "said Martinez"): a name near a speech verb, or any name
    # in a sentence that quotes someone.
    verbs = _speech_verbs(words)
    quoted = bool(QUOTES.search(text))
    for j, w in enumerate(words):
        if w.pos in ("PROPN", "NOUN") and (quoted and w.pos == "PROPN" or any(abs(i - j) <= NEAR for i in verbs)):
            out.add(w.key)
    for i, w in enumerate(words):
        if w.key == "accord":  # "according to X"
            out |= {words[k].key for j in _children(words, i) for k in _children(words, j)
                    if words[k].dep == "pobj" and words[k].pos in ("PROPN", "NOUN")}
        if w.key in FOR_WHOM:  # "a spokesman for X", "X's lawyer", "a statement from X"
            for j in _children(words, i):
                if words[j].dep in ("poss", "compound") and words[j].pos in ("PROPN", "NOUN"):
                    out.add(words[j].key)
                elif words[j].dep == "prep" and words[j].text.lower() in ("for", "from", "of", "to"):
                    out |= {words[k].key for k in _children(words, j)
                            if words[k].dep == "pobj" and words[k].pos in ("PROPN", "NOUN")}
    return out


@dataclass(frozen=True)
class ArticleRoles:
    """Every role and every speaker of an article (built once per article text)."""
    roles: tuple[Role, ...]
    speakers: frozenset[str]
    silent: frozenset[str] = frozenset()  # agents of a speech verb negated or declined ("did not respond")
    names: frozenset[str] = frozenset()  # the keys of the proper nouns the article uses


def article_roles(parsed_sentences) -> ArticleRoles:
    """From `parse.parse_article`'s sentences: their roles (pronouns resolved across sentences)."""
    all_roles: list[Role] = []
    all_speakers: set[str] = set()
    context = None
    for text, words in parsed_sentences:
        sentence_roles = roles(words, context)
        all_roles += sentence_roles
        all_speakers |= speakers(words, sentence_roles, text)
        context = last_person(words) or context
    silent = {r.agent for r in all_roles if r.verb in SPEECH and r.agent and (r.negated or r.silenced)}
    names = {w.key for _, words in parsed_sentences for w in words if w.pos == "PROPN"}
    return ArticleRoles(tuple(all_roles), frozenset(all_speakers), frozenset(silent - all_speakers),
                        frozenset(names))


def role_conflicts(summary_roles: list[Role], article: ArticleRoles, known) -> list[dict]:
    """What the summary's roles get wrong against the article's:

    - ``reversed``: the summary has X do the verb to Y where the article, with the same verb (by
      lemma), has Y do it to X ("Jones accused Smith" -> "Smith accused Jones"), or has X do it to
      X (a reflexive) where the article has someone else do it to X and never X ("staff tried to
      force him" -> "he tried to force himself"); both arguments must be named (no pronoun left
      unresolved), and a summary role the article also has is never reversed;
    - ``unsaid``: a plain saying verb (`SAYING`) whose speaker the article never quotes or reports
      as saying anything (`speakers`), where that speaker is a name the article uses (a proper
      noun: "Smith said" where Smith spoke nowhere) or one the article says stayed silent ("the
      owners revealed" where the owners "did not respond"). A description ("the Bayern boss
      joked") is never flagged: without coreference it cannot be told from the named speaker it
      describes, nor a pronoun resolved to a name.

    ``known(key)``: whether the article contains the word at all (an unknown name is the entity
    and claim scorers' finding, not a role's)."""
    out = []
    for r in summary_roles:
        if r.negated:
            continue
        if r.agent and r.patient:
            theirs = [a for a in article.roles if a.verb == r.verb and not a.negated]
            if not any(a.agent == r.agent and a.patient == r.patient for a in theirs):
                if r.agent != r.patient:
                    flipped = [a for a in theirs if a.agent == r.patient and a.patient == r.agent]
                elif not any(a.agent == r.agent for a in theirs):
                    flipped = [a for a in theirs if a.patient == r.agent and a.agent not in (None, r.agent)]
                else:
                    flipped = []
                if flipped:
                    a = flipped[0]
                    said = " ".join(t for t in (a.agent_text, a.verb_text, a.patient_text) if t)
                    out.append({"kind": "reversed", "verb": r.verb_text, "who": r.agent_text,
                                "detail": f"roles reversed: the article has “{said}”"})
        if (r.verb in SAYING and r.agent and not r.silenced and not r.agent_pronoun and known(r.agent)
                and r.agent not in article.speakers
                and (r.agent in article.names or r.agent in article.silent)):
            out.append({"kind": "unsaid", "verb": r.verb_text, "who": r.agent_text,
                        "detail": f"“{r.agent_text} {r.verb_text}”: the article reports no statement by "
                                  f"{r.agent_text}"})
    return out
