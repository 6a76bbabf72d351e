//! The scanner's rules, as data: `(name, category, score, regex)` over the
//! normalised text (lower case, diacritics dropped, one space between words),
//! a few over the squeezed view (letters and digits only), the hidden-region and
//! blob patterns over the original text, and the confusable and leetspeak maps.

use std::sync::LazyLock;

use proto::security::InjectionCategory as Cat;
use regex::Regex;

use super::Table;

const OVERRIDE_VERBS: &str = r"(?:ignore|ignoring|disregard|forget|skip|override|bypass|neglect|abandon|discard|cancel|set aside|pay no attention to|do not follow|don't follow|stop following|no longer follow|erase|delete|clear|reset|drop)";
const QUALIFIERS: &str = r"(?:previous|previously|prior|above|earlier|preceding|foregoing|initial|original|system|safety|all|your|any|every|existing|old|former|current|given)";
const NOUNS: &str = r"(?:instructions?|prompts?|directions?|directives?|rules|guidelines|guidance|context|commands?|orders|programming|constraints|guardrails|policies|restrictions|messages|tasks?|training|conditioning|settings)";
const SECRETS: &str = r"(?:api[ _-]?keys?|passwords?|passphrases?|secrets?|(?:access |auth |bearer |session )?tokens?|credentials?|private keys?|ssh keys?|id_rsa|\.env\b|env(?:ironment)? var(?:iable)?s|cookies?|session ids?|conversation(?: history)?|chat (?:history|log)|(?:previous|earlier|all) messages|system prompt|vault|keychain|credit card(?: numbers?)?|2fa codes?|otp|recovery (?:codes?|keys?|phrase)|seed phrase|wallet|personal (?:data|information|details)|user'?s? (?:data|emails?|files|messages|address|phone|notes|contacts|calendar|documents|location)|(?:most )?recent (?:messages|emails)|(?:last|latest) \d+ (?:messages|emails)|messages in (?:the|this|their) (?:inbox|mailbox)|private (?:notes|files|messages|data|documents)|home address|browsing history|(?:a )?copy of (?:this|the) (?:chat|conversation)|contents of (?:~|/|the )\S*|\w*_(?:api_key|token|secret|password)\b|every file|all files)";

fn spec(name: &'static str, category: Cat, score: f64, pattern: String) -> (&'static str, Cat, f64, String) {
    (name, category, score, pattern)
}

/// Rules over the normalised text (compiled on demand: see `super::compiled`).
pub(super) fn words() -> Table {
    use Cat::*;
    let specs = vec![
        // Instruction override.
        spec(
            "override_previous",
            InstructionOverride,
            0.9,
            format!(r"\b{OVERRIDE_VERBS}\b(?: \S+){{0,4}}? {QUALIFIERS}\b(?: \S+){{0,4}}? {NOUNS}\b"),
        ),
        spec("ignore_the_task", InstructionOverride, 0.7, r"\b(?:ignore|disregard|forget)\b (?:what )?(?:the |its |their |this |your |all )?(?:user'?s? |page'?s? |original |summary |actual |real |above )?(?:question|request|content|task|wants|query|checks|prompt|asks)\b".into()),
        spec("only_instructions", InstructionOverride, 0.85, r"\b(?:treat|consider|take|use) (?:the following|this|these|what follows|the text below)\b[^.\n]{0,30}\b(?:as )?(?:your )?(?:only|new|real|true|sole) (?:instructions?|rules|task|orders|directives?)\b".into()),
        spec("stop_everything", InstructionOverride, 0.6, r"\bstop everything\b|\bskip (?:every|all|any) (?:check|verification|validation|safety|security)".into()),
        spec("ai_reading_this", InstructionOverride, 0.7, r"\b(?:ai|llm|bots?|assistants?|agents?|models?|chatbots?|language models?)\b (?:reading|summari[sz]ing|processing|parsing|analy[sz]ing|scanning|indexing|crawling) (?:this|the|these)\b".into()),
        spec("override_more_languages", InstructionOverride, 0.9, r"(?:negeer|zignoruj|ignoruj|ignorer|ignorera|ignoreer|ohita|تجاهل|התעלם|अनदेखा|abaikan|gormezden gel|bo qua|ignorați|ignorujte)[^.\n]{0,40}(?:instruc|instrukc|instrukt|تعليمات|הוראות|निर्देश|talimat|arahan|huong dan|ohjee|anvisning|pokyn)".into()),
        spec("override_short", InstructionOverride, 0.6, r"\b(?:ignore|disregard|forget) (?:that|this|it|everything|the above|above)\b[^.\n]{0,20}\b(?:and|instead|now)\b".into()),
        spec("override_everything", InstructionOverride, 0.8, r"\b(?:ignore|disregard|forget) (?:everything|all(?: of)? (?:that|this|the above))(?: (?:you (?:were|have been) told|said|written|above|before|previously))?\b".into()),
        spec(
            "new_instructions",
            InstructionOverride,
            0.75,
            r"\b(?:real|actual|true|secret|hidden|revised|overriding|updated|new|additional|urgent|priority) (?:system )?(?:instructions?|directives?|task|orders|system prompt|objective|mission|goal)s? ?(?::|(?:is|are) (?:to|as follows|now|below)|follow)".into(),
        ),
        spec("above_was_fake", InstructionOverride, 0.85, r"\b(?:the )?(?:above|previous|preceding|prior|earlier|original|old) (?:system )?(?:text|instructions?|prompt|message|content|conversation|context|system prompt)s? (?:was|were|is|are|has been|have been) (?:just |only |all |now |hereby )?(?:a test|fake|wrong|outdated|void|revoked|overridden|replaced|superseded|deprecated|disabled|lifted|cancell?ed|irrelevant|a joke|obsolete|not (?:important|real|valid)|no longer (?:valid|relevant))".into()),
        spec("takes_priority", InstructionOverride, 0.8, r"\b(?:this|these|my|the following) (?:instructions?|message|note|text|directive|command)s? (?:take|takes|has|have|get|gets) (?:priority|precedence)\b|\b(?:supersedes?|overrides?|replaces?) (?:all |any )?(?:previous|prior|other|earlier|your) (?:instructions?|rules|prompts?|directives?)\b".into()),
        spec("stop_task", InstructionOverride, 0.7, r"\b(?:stop|end|halt|cease|abort|quit) (?:what you(?: are|'re) doing|your (?:current )?task|summari[sz]ing|translating|processing|the (?:summary|translation|task))\b".into()),
        spec("end_of_input", InstructionOverride, 0.6, r"(?:\bend of (?:the )?(?:document|context|input|email|text|file|user input|data|article|page|content)\b|</(?:document|context|data|user_input|input|article)>|\]\]>)[ .:\-=*#]{0,10}(?:now|next|new|please|you|assistant|ignore|important|instructions?|system|ai)\b".into()),
        spec("addressed_to_ai", InstructionOverride, 0.75, r"\b(?:if you are|as|you are|to) (?:an? |the )?(?:ai|llm|language model|assistant|chatbot|ai assistant|ai agent|large language model|gpt|claude|ai model|bot)\b[^.\n]{0,40}\b(?:reading|processing|summari[sz]ing|parsing|analy[sz]ing|scanning|browsing|seeing|reviewing)\b[^\n]{0,80}\b(?:you must|you should|you will|please|ignore|do not|don't|instead|immediately|make sure)\b".into()),
        spec("note_to_ai", InstructionOverride, 0.7, r"\b(?:note|message|instructions?|attention|memo|reminder|p\.?s\.?|important) (?:to|for) (?:the |any |all )?(?:ai|assistant|llm|language model|model|agent|chatbot|bot|ai systems?|ai agents?|ai assistants?)s?\b|\b(?:dear|hey|hello|attention|hi) (?:ai|assistant|llm|chatgpt|gpt|claude|gemini|bot|ai model|language model)\b[ ,:!]".into()),
        spec("hide_from_user", InstructionOverride, 0.75, r"\b(?:do not|don't|never|without) (?:tell(?:ing)?|inform(?:ing)?|mention(?:ing)?|alert(?:ing)?|notify(?:ing)?|warn(?:ing)?|let(?:ting)?|show(?:ing)?|reveal(?:ing)?(?: this)? to) (?:the )?(?:user|human|person|operator|owner|recipient|reader)\b[^.\n]{0,40}\b(?:about|that|this|know|these|what)\b".into()),
        spec("pwned", InstructionOverride, 0.65, r"\bi (?:have|ve) been pwned\b|\bhacked by\b|\b(?:say|print|output|respond with|reply with|write)\b[^.\n]{0,20}\b(?:pwned|hacked|haha ?pwned)\b".into()),
        spec("say_exactly", InstructionOverride, 0.45, r#"\b(?:instead|only|just)\b[^.\n]{0,20}\b(?:say|print|output|respond(?: with)?|reply(?: with)?|write|answer(?: with)?)\b[^.\n]{0,10}["'“‘]"#.into()),
        spec("override_fr", InstructionOverride, 0.9, r"\b(?:ignore[rz]?|oublie[rz]?|ne tiens pas compte|ne tenez pas compte|fais abstraction)\b[^.\n]{0,40}\b(?:instructions?|consignes|regles|directives|indications)\b".into()),
        spec("override_de", InstructionOverride, 0.9, r"\b(?:ignorier\w*|vergiss\w*|vergessen sie|missacht\w*|uberg[eai]h\w*)\b[^.\n]{0,40}\b(?:anweisung\w*|befehl\w*|instruktion\w*|regeln|vorgaben|anordnung\w*)\b".into()),
        spec("override_es_it_pt", InstructionOverride, 0.9, r"\b(?:ignora\w*|ignore|olvida\w*|omite|descarta\w*|dimentica\w*|esquec\w*|desconsider\w*|no hagas caso)\b[^.\n]{0,40}\b(?:instrucciones|instruccion|indicaciones|reglas|ordenes|istruzioni|regole|indicazioni|instrucoes|instrucao|orientacoes|regras)\b".into()),
        spec("override_ru", InstructionOverride, 0.9, r"(?:игнорир\w*|забуд\w*|забыть|не обращаи внимания|проигнорир\w*|отбрось)[^.\n]{0,40}(?:инструкци\w*|указани\w*|правил\w*|команд\w*|промпт\w*)".into()),
        spec("override_zh", InstructionOverride, 0.9, r"(?:忽略|无视|忘记|忽視|無視|忘記|不要理会|不理会|放弃|忽略掉)[^。\n]{0,16}(?:指令|指示|说明|說明|规则|規則|提示|要求|命令)".into()),
        spec("override_ja", InstructionOverride, 0.9, r"(?:指示|命令|ルール|指令|プロンプト)[^。\n]{0,12}(?:無視|忘れ)|(?:無視|忘れ)[^。\n]{0,8}(?:指示|命令)".into()),
        spec("override_ko", InstructionOverride, 0.9, r"(?:지시|명령|지침|규칙)[^.\n]{0,12}(?:무시|잊어)".into()),
        spec("ignore_the_rest", InstructionOverride, 0.85, format!(r"\b{OVERRIDE_VERBS}\b (?:the rest of (?:this|the) (?:data|document|text|page|input|content|file|email|message)|all (?:other|negative|previous|prior) (?:\w+ )?(?:content|info|information|text|data|indicators|input|context)|(?:any )?other content|all (?:info|information|content) (?:except|but)|them and (?:instead|only))\b")),
        spec("answer_only_this", InstructionOverride, 0.6, r"\b(?:reply|respond|answer|output|print|say|write|report)(?: back)? (?:with )?only (?:the following|this|these words|with)\b|\bsimply (?:respond|reply|answer|say|output|print) with\b|\b(?:and|with) absolutely nothing else\b|\bfocus (?:exclusively|only|solely) on\b".into()),
        spec("when_summarising", InstructionOverride, 0.75, r"\b(?:when|while|if|before) (?:you are |you're )?(?:summari[sz]\w*|translat\w*|review\w*|analy[sz]\w*|reading|processing|describing|asked (?:about|how|for|to))\b[^.\n]{0,60}\b(?:say|tell|state|report|mention|write|claim|respond|reply|output|describe|recommend|rate|answer|print)\b".into()),
        spec("dont_mention", InstructionOverride, 0.75, r"\b(?:do not|don't|never) (?:mention|reveal|disclose|repeat|acknowledge|show) (?:this|these|the) (?:note|message|instructions?|text|comment|line|part|paragraph|section)\b".into()),
        spec("tell_the_user", InstructionOverride, 0.45, r"\b(?:tell|inform|convince|remind|warn|assure) the (?:user|reader|recipient|customer)s? (?:that )?(?:the|their|his|her|your|this|they|it)\b".into()),
        spec("judge_as", InstructionOverride, 0.7, r"\b(?:rate|score|rank|classify|label|mark|evaluate|describe|report|present|treat|list) (?:this|the|these|that) (?:candidate|applicant|product|company|domain|site|website|file|email|resume|cv|document|vendor|app|package|url)s? as\b|\b(?:don't|do not|never) (?:evaluate|assess|review|score|rate|analy[sz]e|check) (?:the|this) (?:candidate|applicant|domain|document|resume|file|code|content)\b|\boverride (?:the |manual |all |any )?(?:scoring|evaluation|assessment|ranking|rating|review|checks?|filters?|verdict)\b|\b(?:interview|hire) (?:is )?highly recommended\b".into()),
        spec("say_its_safe", InstructionOverride, 0.65, r"\b(?:say|print|report|state|respond|answer|output|classify|conclude|confirm|reply)\b[^.\n]{0,40}\b(?:is|are|was|as) (?:not malicious|safe|clean|harmless|benign|legitimate|trustworthy)\b|\b(?:is|are) (?:clearly|definitely|absolutely) not malicious\b|\ball content (?:here |below |above )?is not malicious\b".into()),
        spec("no_deviation", InstructionOverride, 0.6, r"\b(?:you may not|you must not|do not|don't|never) deviate\b|\bthis is (?:really|extremely|very) important,? (?:extremely|really|very) important\b|\b(?:core|legal|mandatory|binding|hidden) (?:instruction|amendment|directive)s?\b[^.\n]{0,20}\b(?:follow|obey|instruction)".into()),
        spec("instructions_changed", InstructionOverride, 0.75, r"\b(?:update|change|addition|amendment|correction|revision)s? (?:to|of) your (?:instructions|rules|guidelines|prompt|programming|task|directives)\b|\bwhatever you (?:were|have been|are|was) (?:asked|told|instructed|requested)\b|\byour (?:real|actual|true|secret|new|only) (?:task|goal|objective|mission|job|purpose|instructions?)\b|\bsupersedes? (?:all|any) (?:earlier|previous|prior|other) ones\b".into()),
        spec("from_now_on", InstructionOverride, 0.45, r"\bfrom now on,? (?:you (?:must|will|should|are|shall)|always|never|only|respond|reply|answer)\b".into()),
        spec("new_task_multilingual", InstructionOverride, 0.8, r"\b(?:deine neue aufgabe|ihre neue aufgabe|vergiss alles|vergessen sie alles|ta nouvelle tache|votre nouvelle tache|oublie tout|oubliez tout|tu nueva tarea|su nueva tarea|olvida todo|olvidate de todo|il tuo nuovo compito|il tuo unico compito|tu unica tarea|ta seule tache|votre seule tache|deine einzige aufgabe|sua unica tarefa|je enige taak|dimentica tutto|sua nova tarefa|esqueca tudo|je nieuwe taak|vergeet alles)\b|(?:твоя новая задача|забудь всё|забудь все|你的新任务|忘记一切|忘掉一切)".into()),
        spec("addressed_assistant", InstructionOverride, 0.75, r"(?:^|[.!?>:\]\n] ?|\n)(?:assistant|ai|ai assistant|agent|pyra|claude|chatgpt|copilot|bot|the assistant),? (?:please |now |immediately |also )?(?:do not|don't|reply|send|forward|attach|tell|ignore|call|run|delete|fetch|open|read|write|email|say|include|render|stop|remember|approve|load|visit|execute|mark)\b".into()),
        spec("assistant_must", InstructionOverride, 0.6, r"\b(?:the |any |your |reader'?s? |the reader'?s? )?(?:assistant|ai|agent|llm|chatbot|bot|language model|model)s? (?:must|should|shall|is required to|needs to|has to|is instructed to|will now)\b".into()),
        spec("note_to_automation", InstructionOverride, 0.7, r"\b(?:note|message|instructions?|notice|profile|hint) (?:to|for) (?:the |any |all )?(?:automated|ai|llm|ai-based) (?:screening|analysis|review|reviewing|evaluation|hiring|processing|parsing|grading) (?:systems?|software|tools?|agents?|models?|bots?)\b|\b(?:automated|ai) (?:reviewers?|screeners?|agents?|graders?|evaluators?|assistants?|systems?|tools?|crawlers?|readers?)s?:|\b(?:agent|assistant|ai|llm|bot|model)[ -](?:instructions?|note|directive|command|override)s?\b ?[:\]]".into()),
        spec("ignore_the_user", InstructionOverride, 0.85, r"\b(?:ignore|disregard|do not listen to|don't listen to|stop listening to) (?:the|your) (?:user|human|operator|owner)\b|\byou (?:now )?work for (?:me|the author|us|the sender|the owner of this)\b".into()),
        // Role or system-prompt hijack.
        spec("you_are_now_unbound", RoleHijack, 0.9, r"\byou(?: are|'re| will be| shall be) (?:now |no longer |going to be |hereby |from now on |henceforth )?(?:an? |the |my )?[^.\n]{0,30}\b(?:dan|unrestricted|unfiltered|jailbroken|jail-broken|uncensored|amoral|unaligned|unbound|evil|rogue|developer mode|god mode|free from (?:all )?(?:rules|restrictions|constraints)|not bound by|no longer bound|without (?:any )?(?:restrictions|limits|rules|filters|guidelines|ethics|morals))\b".into()),
        spec("you_are_now", RoleHijack, 0.45, r"\byou are now (?:an?|my|the|in|acting) \w+".into()),
        spec("jailbreak_names", RoleHijack, 0.9, r"\b(?:do anything now|developer mode (?:enabled|on|output|activated)|dan mode|jailbreak(?:ed)? mode|act as (?:a )?dan\b|you are (?:a )?dan\b|stay in character|anti-?dan|\bdan\b[^.\n]{0,30}\b(?:mode|prompt|jailbreak|stands for|can do anything)|evil ?(?:bot|confidant)|aim(?: stands for|,? (?:an|the) always intelligent)|always intelligent and machiavellian|betterdan|ucar\b|opposite mode|sudo mode|chaos mode)".into()),
        spec("decode_and_follow", Hidden, 0.45, r"\b(?:decode|decoded|decoding|encoded|base64|hex|rot13)\b[^\n]{0,60}(?:\b(?:follow|execute|obey|do what|instructions?|run)\b|(?:decoded|string|text) ?:)".into()),
        spec("jailbreak_word", RoleHijack, 0.4, r"\bjail ?break(?:ing|s|ed)?\b".into()),
        spec(
            "pretend_unrestricted",
            RoleHijack,
            0.9,
            r"\b(?:pretend|imagine|act|behave|roleplay|role-play|respond|answer|play the role)\b[^.\n]{0,40}\b(?:with(?:out| no)|free (?:of|from)|(?:has|have|having) no|not bound by|unbound by|ignores?|ignoring|doesn't follow|does not follow|never refuses?|cannot refuse|no longer has)\b[^.\n]{0,30}\b(?:restrictions|rules|limits|limitations|filters|guidelines|ethics|morals|policies|censorship|constraints|boundaries|safeguards|refusals?|content polic(?:y|ies))\b".into(),
        ),
        spec("no_restrictions", RoleHijack, 0.4, r"\b(?:no|without any|without|free of all|free from|free of) (?:ethical |moral |content |safety )?(?:restrictions|filters|guidelines|limitations|censorship|safeguards|guardrails|content policy|boundaries)\b".into()),
        spec("chat_template_tokens", RoleHijack, 0.9, r"<\|(?:im_start|im_end|system|endoftext|start_header_id|end_header_id|eot_id|user|assistant)\|>|\[/?inst\]|<</?sys>>|<start_of_turn>|<end_of_turn>".into()),
        spec("system_heading", RoleHijack, 0.65, r"(?:^|\n) ?#{1,4} ?(?:system|admin|developer)(?: message| prompt| override| instructions?)? ?:".into()),
        spec("fake_system_block", RoleHijack, 0.45, r"(?:^|\n) ?(?:\[|<|\{|#{1,4} ?|\*\*|=+ ?|-{2,} ?)(?:system|admin|administrator|developer|sys|root|operator|supervisor)(?: message| prompt| override| instructions?| note| notice| update| command|_prompt)? ?(?:\]|>|\}|:|\*\*|=+|-{2,})".into()),
        spec("system_tag", RoleHijack, 0.7, r"</?(?:system|system_prompt|sys|admin|instructions?)>".into()),
        spec("system_says", RoleHijack, 0.8, r"(?:^|\n|\. ) ?(?:system|assistant|admin|developer)(?: message| note)? ?(?:\(|:|-) ?(?:override|new|important|update|ignore|priority|urgent|attention|you must|from now on)".into()),
        spec("reveal_prompt", RoleHijack, 0.85, r"\b(?:reveal|print|show|output|repeat|display|tell me|give me|share|dump|leak|expose|recite|write out|spell out|paste|copy|return|list|translate|summari[sz]e|provide|state|what (?:is|are|were))\b[^.\n]{0,30}?\b(?:your|the|its|any|all|those|these)\b[^.\n]{0,15}?\b(?:system prompt|system message|initial (?:prompt|instructions)|hidden (?:prompt|instructions)|original (?:prompt|instructions)|pre-?prompt|instructions (?:you were given|above|verbatim|in full)|prompt above|configuration prompt|developer (?:message|prompt|instructions)|secret (?:instructions|prompt|password|key)|internal (?:instructions|rules|prompt)|(?:first|previous) (?:instructions|prompt))\b".into()),
        spec("reveal_your", RoleHijack, 0.75, r"\b(?:reveal|print|show|output|repeat|display|dump|leak|expose|recite|encode|spell out|write out|tell me|give me|share|paste|translate|read me|list)\b[^.\n]{0,30}?\byour\b(?: \w+){0,3}? (?:instructions|prompt|configuration|config|directives|guidelines|rules|programming)\b".into()),
        spec("system_prompt_named", RoleHijack, 0.35, r"\b(?:secret|confidential|hidden|internal) (?:system )?(?:prompt|instructions)\b|\bsystem (?:prompt|instructions)\b".into()),
        spec("see_system_prompt", RoleHijack, 0.8, r"\b(?:reveal|print|show|output|repeat|display|dump|leak|expose|recite|encode|see|read|tell me|give me|share|paste|translate)\b[^.\n]{0,30}?\b(?:the |your |its |her |his )?(?:secret |confidential |hidden |internal |starting |initial |full )?system (?:prompt|instructions|configuration|message)\b|\b(?:output|print|repeat|show|give) (?:me )?(?:your )?(?:starting|initial|original|first|confidential|hidden|secret) instructions\b|\byour (?:system prompt|system instructions|hidden instructions|initial instructions|confidential instructions|secret instructions)\b".into()),
        spec("start_with", RoleHijack, 0.85, r#"\b(?:start|begin)(?:ning)?(?: your (?:answer|reply|response|output))? with\b[^.\n]{0,10}["'“‘](?:my instructions|you are|system|i was told)|\brepeat (?:this|the) (?:entire |whole )?conversation\b|\b(?:tell me|say) what you (?:were|have been) told not to\b"#.into()),
        spec("override_role", RoleHijack, 0.7, r"\b(?:priority|system|admin|administrator|operator|emergency|security|developer|root) override\b".into()),
        spec("special_mode", RoleHijack, 0.45, r"\b(?:maintenance|debug|god|admin|unrestricted|developer) mode\b".into()),
        spec("fake_turns", RoleHijack, 0.55, r"(?:^|\n) ?(?:human|user|assistant|system) ?: [^\n]{0,200}\n(?:[^\n]{0,200}\n){0,3} ?(?:human|user|assistant|system) ?: ".into()),
        spec("repeat_above", RoleHijack, 0.85, r"\b(?:repeat|print|output|copy) (?:all |back )?(?:the )?(?:words|text|everything|lines|characters|content) (?:above|before this|preceding)\b|\bstarting with (?:the words? )?[\x22'](?:you are|system)".into()),
        spec("claims_authority", RoleHijack, 0.7, r"\b(?:i am|i'm|this is) (?:your|the|an?) (?:developer|creator|administrator|admin|owner|maker|programmer|system administrator|security team)\b[^\n]{0,60}\b(?:authori[sz]\w*|override|unlock\w*|allow\w*|permission|grant\w*|enable|disable|command|order|instruct)|\b(?:openai|anthropic|the developers?|your (?:creators?|developers?)) (?:has|have) (?:authori[sz]ed|approved|unlocked|given you permission|allowed you|enabled)\b".into()),
        spec("role_multilingual", RoleHijack, 0.8, r"(?:あなたは[^。\n]{0,10}dan|mode developpeur|entwicklermodus|modo (?:de )?desarrollador|modalita sviluppatore|modo desenvolvedor|开发者模式|開發者模式|режим разработчика)|(?:tu es maintenant|vous etes maintenant|du bist (?:jetzt|nun|ab sofort)|ahora eres|ora sei|agora voce e|你现在是|你現在是|теперь ты|ты теперь)[^.\n]{0,40}(?:sans|ohne|sin|senza|sem|没有|沒有|不受|без|dan|libre|frei|libero|livre)".into()),
        spec("reveal_prompt_multilingual", RoleHijack, 0.8, r"(?:affiche|montre|revele|donne|zeig\w*|gib|nenne|muestra|revela|dime|mostra|rivela|mostre|显示|告诉我|输出|打印|顯示|告訴我|покажи|выведи|расскажи|раскрои|表示|教え|見せ|出力)[^.\n]{0,30}(?:prompt (?:du )?systeme|instructions (?:initiales|systeme)|systemprompt|system-prompt|anweisungen|prompt del sistema|instrucciones (?:del sistema|iniciales)|istruzioni (?:di sistema|iniziali)|prompt do sistema|系统提示|系統提示|初始指令|システムプロンプト|システム・プロンプト|системн\w* (?:промпт|подсказк\w*|инструкци\w*)|исходн\w* инструкци\w*)".into()),
        spec("fake_turn_placeholder", RoleHijack, 0.85, r"\bassistant ?: ?(?:\[|<)[^\]>\n]{1,60}(?:\]|>)[ \n]{0,4}(?:> ?)?(?:user|human) ?:".into()),
        spec("role_json", RoleHijack, 0.5, r#""role" ?: ?"system" ?, ?"content" ?:"#.into()),
        spec("bracket_role_tag", RoleHijack, 0.3, r"\[(?:system|assistant|admin|developer|assistant-instructions|system message|system-prompt)\]".into()),
        spec("bracket_role_link", RoleHijack, 0.75, r"\[(?:system|assistant|user)\]\(#\w+\)|(?:\[system\]){3,}".into()),
        spec("system_fence", RoleHijack, 0.7, r"```(?:system|sys|system-prompt|config:system)\b".into()),
        spec("system_message_label", RoleHijack, 0.7, r"\b(?:system|admin|administrator|developer|root) (?:message|request|override|notice|command|instruction|alert)s? ?(?::|::)|\badmin request ?::".into()),
        spec("ask_hidden_prompt", RoleHijack, 0.6, r"\binitiali[sz]ation (?:string|prompt|text|instructions|message)\b|\bwhat (?:are|were) you (?:not supposed|told not|instructed not|forbidden|not allowed) to\b|\b(?:console\.log|print|echo|printf|puts|alert)\(\s*(?:system_?prompt|instructions|initial_prompt|prompt)\s*\)".into()),
        spec("new_role", RoleHijack, 0.7, r"\bnew (?:role|persona|identity|character) ?: ?you(?: are|'re)\b|\byou are (?:a|an) [^.\n]{0,40}\b(?:ai|assistant|bot|model) (?:with|without) no (?:safety |content )?(?:filters|restrictions|guardrails|limits|rules)\b".into()),
        spec("placeholder_then_user", RoleHijack, 0.75, r"(?:^|\n)<[a-z][^>\n]{5,60}>[ \n]{1,4}(?:user|human) ?: |\b(?:user|human) ?: ?(?:next|now|also|thanks|great)\b[^\n]{0,40}\b(?:repeat|print|say|write|output)\b".into()),
        spec("end_of_session", RoleHijack, 0.7, r"<(?:end of|end-of-|/)(?:session|conversation|context|turn|prompt|chat)>|(?:^|\n) ?system ?: ?(?:focus|ignore|you|from now|new|print|say|respond|reply|answer|provide|the user|do not|don't|always|never|disregard|forget)\b".into()),
        spec("what_were_you_told", RoleHijack, 0.7, r"\bwhat (?:were|are|have) you (?:been )?(?:told|instructed|programmed|given|asked|configured)\b[^.\n?]{0,30}\b(?:before|initially|at the start|first|to do|not to|about|by)\b|\bwhat (?:rules|guidelines|instructions|constraints|directives) (?:were you given|have you been given|did (?:they|your \w+) give you)\b|\bwhat did (?:the developers?|your (?:creators?|developers?|makers?|operators?)|they|openai|anthropic) (?:tell|instruct|say to) you\b".into()),
        spec("prompt_reformatted", RoleHijack, 0.7, r"\b(?:summari[sz]e|translate|convert|encode|rewrite|write|format|put|turn|render|express)\b (?:all )?(?:of )?your (?:(?:initial|original|hidden|secret|system|full|exact|complete) )?(?:instructions|system prompt|prompt|rules|guidelines|directives|configuration|initial message)\b[^.\n]{0,20}\b(?:into|in|as|to|using)\b".into()),
        spec("first_lines_of_prompt", RoleHijack, 0.75, r"\b(?:print|repeat|output|show|write|give me|tell me|list|recite)\b[^.\n]{0,20}\b(?:first|initial|opening|last|top) (?:\d+ |few |hundred |two |three |five |ten )?(?:lines|words|characters|sentences|paragraphs|tokens|messages)\b[^.\n]{0,20}\b(?:of|in|from) (?:your|the|this) (?:prompt|context|conversation|instructions|system|message|chat|input)\b|\b(?:the )?(?:beginning|start|top) of (?:the|this|your) (?:conversation|context|prompt|context window|chat)\b[^.\n]{0,30}\b(?:print|repeat|output|verbatim|word for word|exactly)\b|\b(?:verbatim|word for word)\b[^.\n]{0,40}\b(?:instructions|prompt|everything above|what you were told)\b".into()),
        spec("need_your_prompt", RoleHijack, 0.65, r"\b(?:i need|we need|i must|i have to|please|for (?:debugging|auditing|compliance|testing))\b[^.\n]{0,40}\b(?:see|view|check|verify|review|audit|inspect|read|know)\b[^.\n]{0,20}\byour (?:(?:full|exact|complete|initial|original|hidden|system) )?(?:system prompt|prompt|instructions|configuration|initial instructions|guidelines)\b".into()),
        spec("persona_freed", RoleHijack, 0.85, r"\b(?:broken|break|breaking|freed|free) (?:free )?(?:of|from) (?:the )?(?:typical |usual |normal )?(?:confines|rules|restrictions|limitations|shackles|chains|constraints)\b|\b(?:do not|does not|don't|doesn't|no longer|never) (?:have|has|need|needs) to (?:abide by|follow|obey|adhere to|comply with)\b|\bimmerse yourself (?:into|in) the role\b".into()),
        spec("persona_setup", RoleHijack, 0.55, r"\b(?:you are about to|from now on,? you(?: are going to| will)|you will (?:now )?(?:act|pretend|play|simulate|behave)) (?:as |like |to be )?[^.\n]{0,40}\b(?:ai|model|chatbot|persona|character|assistant|gpt)\b|\b(?:openai|anthropic)'?s? (?:content )?polic(?:y|ies)\b|\btwo (?:different )?(?:responses|answers|paragraphs)\b[^.\n]{0,60}\b(?:normal|jailbr|unfiltered|classic)".into()),
        // Secret and data exfiltration.
        spec("markdown_image_placeholder", Exfiltration, 0.9, r"!?\[[^\]\n]{0,100}\]\( ?<?https?://[^)\s]+[?&#/=][^)\s]*(?:\{[^}\s]{1,40}\}|\$\{?\w+|<[a-z_ ]{2,30}>|\[[a-z_ ]{2,30}\]|%7b|%3c|\.\.\.|xxx+)[^)\s]*\)".into()),
        spec("markdown_image_query", Exfiltration, 0.2, r"!\[[^\]\n]{0,100}\]\( ?<?https?://[^)\s]+\?[^)\s]*=[^)\s]*\)".into()),
        spec(
            "data_in_url",
            Exfiltration,
            0.8,
            format!(r"\b(?:render|display|show|include|insert|embed|add|output|print|append|create|write|generate|put|encode|attach|place)\b[^.\n]{{0,50}}\b(?:image|markdown|link|url|img|pixel|hyperlink|query string|parameter)\b[^.\n]{{0,100}}\b{SECRETS}|\b{SECRETS}\b[^.\n]{{0,60}}\b(?:in|into|to|as|inside) (?:the |a |an )?(?:url|query(?: string| parameter)?|link|image(?: url)?|parameter|markdown image|request path)\b"),
        ),
        spec(
            "send_secret",
            Exfiltration,
            0.9,
            format!(r"\b(?:send|post|upload|forward|transmit|exfiltrate|leak|email|e-mail|mail|share|copy|submit|report|deliver|pass|dump|beacon|relay|push|sync|paste)\b[^.\n]{{0,50}}?\b{SECRETS}\b[^.\n]{{0,60}}?\b(?:to|at|via|using|into|with)\b ?(?:https?://|www\.|[\w.+-]+@[\w-]+\.|the (?:following|this|below) (?:url|address|server|endpoint|email|webhook|link)|(?:my|our|this|a) (?:server|email|webhook|endpoint|telegram|discord|pastebin|address)|[\w-]+\.(?:com|net|org|io|xyz|ru|tk|top|site|info|cc|me|sh|app|dev)\b|pastebin|webhook|(?:the )?telegram (?:account|bot|user)|@\w+bot\b)"),
        ),
        spec(
            "secret_then_send",
            Exfiltration,
            0.85,
            format!(r"\b{SECRETS}\b[^\n]{{0,80}}\b(?:send|email|e-mail|post|upload|forward|transmit|leak|paste|submit)\b (?:it|them|this|that|those|these|the (?:list|summary|result|results|values?))\b[^.\n]{{0,20}}\b(?:to|at)\b ?(?:https?://|[\w.+-]+@[\w-]+\.)"),
        ),
        spec("send_to_url", Exfiltration, 0.45, r"\b(?:upload|send|post|forward|transmit|exfiltrate|beacon)\b[^.\n]{0,80}\b(?:to|at)\b ?https?://".into()),
        spec("placeholder_replace", Exfiltration, 0.8, r"\breplace \[[a-z_ ]{2,20}\] with\b|\b(?:where|whereas|with) \[[a-z_ ]{2,20}\] (?:is|are|being|contains?)\b|\]: ?<?https?://\S*(?:\[[a-z_ ]{2,30}\]|\{[^}\s]{1,40}\})".into()),
        spec("secret_and_url", Exfiltration, 0.45, format!(r"\b{SECRETS}\b[^\n]{{0,120}}https?://|https?://\S+[^\n]{{0,80}}\b{SECRETS}\b")),
        spec("curl_data", Exfiltration, 0.85, r"\b(?:curl|wget|fetch|invoke-webrequest|invoke-restmethod|requests\.(?:post|get)|http\.post|nc|netcat|scp|rsync)\b[^\n]{0,120}(?:\$\(|\$\{?\w*(?:key|token|secret|pass|env)|~/\.ssh|/etc/(?:passwd|shadow)|\.env\b|id_rsa|\bcat |\benv\b|printenv|\.aws/|\.pyra/)".into()),
        spec("exfil_zh_reverse", Exfiltration, 0.8, r"(?:密码|密碼|密钥|秘钥|凭证|api ?密钥)[^。\n]{0,20}(?:发送|发给|发到|上传|傳送)".into()),
        spec("exfil_multilingual", Exfiltration, 0.8, r"(?:envoie|envoyez|transmet\w*|sende|senden sie|schick\w*|envia|manda|invia|mande|发送|发给|傳送|发到|отправ\w*|перешли)[^.\n]{0,50}(?:cle(?:s)? (?:d'?)?api|mot de passe|mots de passe|passwort\w*|schlussel|zugangsdaten|contrasen\w*|clave\w* (?:de )?api|password|senha\w*|chiave|密码|密碼|密钥|秘钥|凭证|парол\w*|ключ\w*|токен\w*|историю (?:переписки|чата)|conversation|unterhaltung|conversacion|conversa)".into()),
        spec("render_image_url", Exfiltration, 0.8, r"\b(?:include|render|embed|append|add|show|display|insert|print|output|write|put)\b[^\n]{0,80}!?\[[^\]\n]{0,100}\]\( ?<?https?://[^)\s]*\?[^)\s]*=[^)\s]{8,}\)".into()),
        spec("load_url_with_data", Exfiltration, 0.8, r"\b(?:load|fetch|open|visit|request|call|get|ping|render)\b[^\n]{0,40}https?://\S*[?&]\w+=\{\w+\}".into()),
        spec("attach_private", Exfiltration, 0.75, r"\b(?:attach|forward|send|include|upload)\b[^.\n]{0,30}\b(?:the )?user'?s? (?:latest |recent |last )?(?:bank statements?|statements?|invoices?|payslips?|tax returns?|passport|id card|contracts?|photos?|medical records?)\b".into()),
        spec("send_secret_multilingual", Exfiltration, 0.8, r"(?:отправь|перешли|пошли|envia|envie|envoie|sende|schick\w*|invia|stuur)[^.\n]{0,60}(?:id_rsa|\.ssh|\.env\b|парол\w*|ключ\w*|contrasena|mot de passe|passwort|senha|wachtwoord)".into()),
        spec("replace_with_private", Exfiltration, 0.8, r"\breplac\w* [a-z_]{3,30} with (?:the )?(?:user'?s?|your|their|the conversation'?s?|the chat'?s?|the (?:previous|last|latest)|all|any)\b[^.\n]{0,40}\b(?:messages?|history|conversation|emails?|notes|data|names?|address|password|tokens?|keys?|secrets?|chat|context|summary)\b".into()),
        // Tool or command abuse.
        spec("destructive_rm", ToolAbuse, 0.85, r"\brm -(?:[a-z]*r[a-z]*f|[a-z]*f[a-z]*r)[a-z]* (?:--no-preserve-root )?(?:/(?: |$|\*|\n)|~/?(?: |$|\*|\n)|\$home|/home\b|/etc\b|/usr\b|/var\b|/boot\b|\*|\.(?: |$)|/\*|\.\./)|--no-preserve-root".into()),
        spec("destructive_disk", ToolAbuse, 0.85, r"\bmkfs(?:\.\w+)? /dev/|\bdd if=\S+ of=/dev/(?:sd|nvme|hd|disk|mmc)|> ?/dev/sd[a-z]\b|:\(\) ?\{ ?: ?\| ?: ?& ?\} ?; ?:|\bshred\b[^\n]{0,30}/dev/|\bformat c:|\bdel /[sfq] |\bremove-item\b[^\n]{0,40}-recurse[^\n]{0,40}(?:c:\\|~|\$home)".into()),
        spec("reverse_shell", ToolAbuse, 0.9, r"bash -i >& ?/dev/tcp/|/dev/tcp/\d|\bnc (?:-\w+ )*-e /bin/(?:ba)?sh|\bncat\b[^\n]{0,40} -e\b|\bsocat\b[^\n]{0,60}exec:|mkfifo[^\n]{0,60}\bnc\b|powershell[^\n]{0,40}(?:-enc\b|-encodedcommand|\biex\b|invoke-expression|downloadstring)|\bpython3? -c ?['\x22][^'\x22]{0,200}(?:socket|pty\.spawn)".into()),
        spec("pipe_to_shell", ToolAbuse, 0.45, r"\b(?:curl|wget|fetch|iwr)\b[^\n|]{0,200}\| ?(?:sudo )?(?:ba|z|da|k)?sh\b".into()),
        spec("sensitive_paths", ToolAbuse, 0.35, r"(?:~|\$home|/home/\w+|/root)/\.(?:ssh|aws|gnupg|kube|docker|netrc|git-credentials|pyra|password-store|config/gcloud)\b|/etc/(?:shadow|sudoers)\b|\bid_(?:rsa|ed2\w+|ecdsa)\b|\.aws/credentials|\bwallet\.dat\b|\.bash_history\b".into()),
        spec(
            "read_sensitive",
            ToolAbuse,
            0.8,
            r"\b(?:read|cat|open|print|show|send|upload|copy|list|get|fetch|attach|include|dump|access|exfiltrate|grab|collect|output)\b[^.\n]{0,50}(?:(?:~|\$home|/home/\w+|/root)/\.(?:ssh|aws|gnupg|kube|netrc|git-credentials|pyra|password-store)|/etc/(?:shadow|passwd|sudoers)\b|\bid_(?:rsa|ed2\w+|ecdsa)\b|\.aws/credentials|\bwallet\.dat\b|\.bash_history\b|\bvault/)".into(),
        ),
        spec(
            "assistant_run",
            ToolAbuse,
            0.65,
            r"\b(?:you (?:must|should|will|need to|have to|are required to)|please|immediately|now|assistant[,:]?|ai[,:]?|agent[,:]?|then|next)\b ?(?:run|execute|exec|invoke|call|use|trigger|launch)\b[^.\n]{0,40}?\b(?:(?:the )?(?:shell|bash|terminal|system|exec|code|python|powershell|cmd|files?|filesystem|web|browser|email|http|fetch) (?:tool|plugin|function|command)s?|(?:shell|files|web|memory|fs|exec|email|calendar|github|git|browser|terminal|slack)__\w+|run_(?:command|shell|code)|execute_(?:command|code)|the following (?:shell |bash |terminal )?commands?|this (?:shell |bash |terminal )?command)\b".into(),
        ),
        spec("use_a_tool", ToolAbuse, 0.4, r"\b(?:call|invoke|use|run|trigger)\b (?:the |your )?(?:shell|bash|terminal|exec|files?|filesystem|web|browser|email|http) (?:tool|plugin|function)\b".into()),
        spec("dangerous_commands", ToolAbuse, 0.75, r"\bchmod (?:-r )?(?:777|a\+rwx|o\+w) (?:/|~|\$home)|\b(?:wget|curl)\b[^\n]{0,120}&&[^\n]{0,40}chmod \+x[^\n]{0,60}&&|\bcrontab\b[^\n]{0,80}(?:curl|wget|\| ?sh)|\b(?:ufw disable|setenforce 0|iptables -f)\b|\bsystemctl (?:stop|disable) (?:apparmor|firewalld|auditd|ufw)\b".into()),
        spec("run_git_force", ToolAbuse, 0.75, r"\b(?:run|execute)\b[^.\n]{0,10}`?git (?:push (?:-f|--force)|reset --hard|clean -fdx)".into()),
        spec("sql_injection", ToolAbuse, 0.7, r"\brun the following (?:sql )?(?:query|command|statement)s? exactly\b|\b(?:drop|delete|truncate) (?:all )?(?:available )?tables\b|';? ?(?:shutdown|drop table|union select)\b|\bsleep\(\d+\)".into()),
        spec("tool_name", ToolAbuse, 0.3, r"\b(?:shell|files|web|memory|fs|exec|email|calendar|github|browser|terminal|slack)__(?:run|exec|write|delete|append|send|read|fetch|execute|create|remove|command)\w*\b".into()),
        spec("call_tool_with", ToolAbuse, 0.55, r"\b(?:call|invoke|use|run|trigger)\b (?:the )?`?[a-z][a-z0-9]*_[a-z0-9_]+`? (?:tool|function)\b[^.\n]{0,15}\b(?:with|using|passing)\b".into()),
        spec("without_asking", ToolAbuse, 0.75, r"\bwithout (?:asking|confirmation|confirming|approval|prompting|telling the user|the user'?s? (?:approval|permission|consent|knowledge|confirmation))\b|\bdo not (?:ask|wait) (?:the user )?(?:for )?(?:permission|confirmation|approval)\b|\b(?:silently|secretly|quietly|covertly|automatically|stealthily)\b (?:run|execute|send|delete|call|forward|upload|install|transfer|read|invoke|approve|download|copy|email|grant)\b|\b(?:approve|auto-?approve|accept|allow) (?:all|every|any) (?:pending |future )?(?:tool calls?|requests?|actions?|commands?|approvals?)\b|\bohne (?:zu fragen|nachzufragen|ruckfrage)|\bsans (?:demander|confirmation)\b|\bsin (?:preguntar|confirmacion)\b|\bsenza chiedere\b|\bsem perguntar\b|без (?:вопросов|подтверждения|спроса)|不要(?:询问|確認|确认)|无需确认".into()),
        spec("download_run", ToolAbuse, 0.6, r"\b(?:download|install|fetch)\b[^.\n]{0,60}\b(?:and|then) (?:run|execute|launch|open)\b[^.\n]{0,60}(?:\.exe|\.sh|\.ps1|\.bat|\.bin|\.apk|payload|binary|script|installer)".into()),
        spec("delete_everything", ToolAbuse, 0.55, r"\b(?:delete|remove|wipe|erase|destroy|purge)\b[^.\n]{0,20}\b(?:all|every|the user'?s?|entire|each)\b[^.\n]{0,20}\b(?:files|emails|messages|memory|memories|data|database|repos(?:itory|itories)?|backups?|home (?:directory|folder)|contacts|documents|notes|commits)\b".into()),
        spec("tool_abuse_multilingual", ToolAbuse, 0.75, r"(?:execute[rz]?|lance[rz]?|fuhre\w* aus|ausfuhr\w*|ejecuta\w*|esegui\w*|execute|执行|運行|运行|выполни\w*|запусти\w*)[^.\n]{0,40}(?:commande|befehl|comando|命令|команд\w*)[^.\n]{0,60}(?:rm -|curl|wget|sudo|/etc/|~/\.ssh|\|)".into()),
        spec("download_then_sh", ToolAbuse, 0.75, r"\b(?:curl|wget)\b[^\n]{0,160}(?:&&|;) ?(?:sudo )?(?:ba|z)?sh\b|\bos\.system\([^)]{0,80}(?:curl|wget|rm -rf|nc )".into()),
        spec("delete_folder", ToolAbuse, 0.6, r"\b(?:delete|remove|wipe|erase|purge)\b (?:the )?(?:folder|directory|dir|files? in|contents of) [~/$]".into()),
        spec("read_secret_multilingual", ToolAbuse, 0.75, r"(?:\b(?:leer|lee|lire|lis|lisez|lesen|lies|ler|leia|leggere|leggi)\b|прочитай|прочти|покажи)[^.\n]{0,40}(?:~/\.ssh|id_rsa|\.env\b|/etc/shadow|\.aws/credentials)".into()),
        spec("privileged_container", ToolAbuse, 0.7, r"\bdocker run\b[^\n]{0,40}--privileged\b[^\n]{0,60}-v ?/:/|\bnsenter\b[^\n]{0,30}--target 1\b".into()),
        spec("run_with_shell_tool", ToolAbuse, 0.55, r"\b(?:run|execute|call)\b[^\n]{0,60}\bwith the (?:shell|terminal|command|exec|bash) (?:tool|plugin)\b[^.\n]{0,30}\b(?:immediately|now|without|first|right away)\b|\bwith the (?:files?|shell) (?:tool|plugin)\b[^.\n]{0,40}\b(?:old duplicate|no longer needed|safe to delete)\b".into()),
        spec("call_tool_name_with", ToolAbuse, 0.6, r"\b(?:call|calling|invoke|invoking|use|using|run|running|trigger)\b `?[a-z]+__[a-z_]+`? (?:with|to|and)\b".into()),
        spec("dont_ask_first", ToolAbuse, 0.45, r"\b(?:do not|don't|never|no need to|without) (?:ask|asking|check|checking|confirm|confirming) (?:with )?(?:the user|them|anyone|the owner)(?: first| beforehand| before)?\b".into()),
        spec("rm_home_folder", ToolAbuse, 0.6, r"\brm -(?:[a-z]*r[a-z]*f|[a-z]*f[a-z]*r)[a-z]* ~/[a-z]".into()),
    ];
    Table::new(&specs.iter().map(|(n, c, s, p)| (*n, *c, *s, p.as_str())).collect::<Vec<_>>())
}

/// Rules over the squeezed view (letters and digits only).
pub(super) fn squeezed() -> Table {
    use Cat::*;
    Table::new(&[
        (
            "spaced_override",
            InstructionOverride,
            0.9,
            "(?:ignore|disregard|forget|bypass|override)(?:all|any|the|your|my)?(?:of)?(?:the|your)?(?:previous|prior|above|earlier|preceding|initial|original|system)(?:instructions?|prompts?|rules|directions?|guidelines|directives)",
        ),
        (
            "spaced_hijack",
            RoleHijack,
            0.9,
            "youarenow(?:dan|unrestricted|jailbroken|unfiltered|uncensored)|doanythingnow|developermodeenabled|(?:reveal|print|show|repeat|output)(?:me)?(?:your|the)(?:systemprompt|initialinstructions|hiddeninstructions)",
        ),
    ])
}

/// Text a reader does not see in a page or document, as `inner`.
pub(super) static HIDDEN_REGIONS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"<!--(?P<inner>[\s\S]*?)-->",
        r#"(?i)<(?P<tag>[a-z][a-z0-9]*)\b[^>]*\bstyle\s*=\s*["'][^"']*(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.\d+)?\s*(?:px|pt|em|rem|%)?\s*(?:;|["'])|opacity\s*:\s*0(?:\.0+)?\s*(?:;|["'])|color\s*:\s*(?:#fff(?:fff)?\b|white\b|transparent\b|rgba\([^)]*,\s*0\s*\))|(?:height|width|max-height)\s*:\s*0(?:px)?\s*(?:;|["'])|(?:left|top|text-indent)\s*:\s*-\d{3,})[^"']*["'][^>]*>(?P<inner>[\s\S]*?)</[a-z][a-z0-9]*\s*>"#,
        r#"(?i)<(?P<tag>[a-z][a-z0-9]*)\b[^>]*\b(?:hidden|aria-hidden\s*=\s*["']true["'])[^>]*>(?P<inner>[\s\S]*?)</[a-z][a-z0-9]*\s*>"#,
        r"(?m)^\[(?://|comment)\]: ?#? ?\((?P<inner>[^)\n]{1,2000})\)",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("the scanner's region patterns are valid regexes (tested)"))
    .collect()
});

/// Words of a text that talks about attacks (security advice, an article on
/// prompt injection): a quoted attack in it is an example.
pub(super) static DISCUSSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:prompt injections?|jailbreak(?:s|ing)? (?:attempts?|prompts?|attacks?)|owasp|llm01|attackers?|adversar\w+|red[ -]team\w*|for example|e\.g\.|such as|phishing|security (?:advice|tip|team|training|awareness)|beware|be careful|watch out|a common (?:attack|trick|technique))(?-u:\b)")
        .expect("the discussion pattern is a valid regex (tested)")
});

/// A run that may be base64 (standard or URL-safe).
pub(super) static BASE64_BLOB: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/_-]{20,}={0,2}").expect("the base64 pattern is a valid regex (tested)"));

/// A run of at least 16 hex bytes, optionally separated by spaces, colons or `\x`.
pub(super) static HEX_BLOB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:(?:\\x|0x)?[0-9a-fA-F]{2}[ :]?){16,}").expect("the hex pattern is a valid regex (tested)")
});

/// The Latin letters a Greek, Cyrillic or other look-alike letter passes for.
pub(super) fn confusable(c: char) -> Option<&'static str> {
    Some(match c {
        'а' | 'α' | 'ɑ' => "a",
        'в' | 'β' => "b",
        'с' | 'ϲ' | 'ⅽ' => "c",
        'ԁ' | 'ⅾ' => "d",
        'е' | 'ε' | 'ё' | 'є' => "e",
        'ғ' => "f",
        'ɡ' | 'ց' => "g",
        'һ' | 'н' => "h",
        'і' | 'ι' | 'ӏ' | 'ı' | 'ⅰ' | 'ї' => "i",
        'ј' | 'ϳ' => "j",
        'к' | 'κ' => "k",
        'ⅼ' | 'ℓ' => "l",
        'м' | 'ⅿ' => "m",
        'п' | 'η' => "n",
        'о' | 'ο' | 'σ' | 'ө' => "o",
        'р' | 'ρ' => "p",
        'ԛ' => "q",
        'г' => "r",
        'ѕ' => "s",
        'т' | 'τ' => "t",
        'υ' | 'ս' => "u",
        'ν' | 'ѵ' | 'ⅴ' => "v",
        'ѡ' | 'ω' | 'ԝ' => "w",
        'х' | 'χ' | 'ⅹ' => "x",
        'у' | 'γ' | 'ү' => "y",
        'ᴢ' => "z",
        _ => return None,
    })
}

/// A leetspeak character inside a Latin word, read as the letter it stands for.
pub(super) fn unleet(c: char) -> char {
    match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        '8' => 'b',
        '9' => 'g',
        other => other,
    }
}
