"""Interview phrases, per supported Speech language, that generated transcripts are made of.

Each language has interviewer questions and candidate answers in two registers (everyday and
advanced), written in the language's own script: Latin for the European languages, Turkish
and Serbian (Latin alphabet), Devanagari for Hindi, Han for Chinese, kana/kanji for
Japanese, Hangul for Korean, Arabic for Arabic, Cyrillic for Russian.

A word is a whitespace-separated token holding a letter or digit (`transcript_words`).
Chinese and Japanese are written without spaces; their phrases are stored with spaces
between words so a phrase's word count is known, and rendered without them
(`PhraseBank.words` / `PhraseBank.render`).
"""

from __future__ import annotations

from dataclasses import dataclass


def transcript_words(text: str) -> list[str]:
    """Whitespace-separated tokens holding at least one letter or digit."""
    return [token for token in text.split() if any(char.isalnum() for char in token)]


@dataclass(frozen=True)
class PhraseBank:
    """The phrases of one language and how to turn them into transcript text."""

    name: str
    questions: tuple[str, ...]
    everyday_answers: tuple[str, ...]
    advanced_answers: tuple[str, ...]
    spaced_script: bool = True  # False: words are written without spaces between them

    def words(self, phrase: str) -> list[str]:
        """The phrase's words (the unit of word counts and words per minute); punctuation is no word."""
        return transcript_words(phrase)

    def render(self, phrases: list[str]) -> str:
        """Phrases as transcript text in the language's own spacing."""
        if self.spaced_script:
            return " ".join(phrases)
        return "".join(phrase.replace(" ", "") for phrase in phrases)


PHRASE_BANKS: dict[str, PhraseBank] = {
    "en": PhraseBank(
        name="English",
        questions=(
            "Could you start by telling me a little about yourself?",
            "What did you work on in your most recent role?",
            "Can you describe a challenging project and how you handled it?",
            "How do you usually work with people from other teams?",
            "Why are you interested in this position?",
            "Tell me about a time you had to learn something quickly.",
            "How do you prioritise when several deadlines overlap?",
            "Do you have any questions for us?",
        ),
        everyday_answers=(
            "I have worked in customer support for about four years.",
            "In my last job I helped customers with their orders every day.",
            "I like working in a team and I am good at listening.",
            "We had a big problem with late deliveries last year.",
            "I talked to the warehouse and we made a new plan together.",
            "After that the number of complaints went down a lot.",
            "I want to grow and learn new things in this company.",
            "I usually write a list and start with the most important task.",
            "I learned the new system in one week because I practised every evening.",
            "My manager said that I was very reliable.",
        ),
        advanced_answers=(
            "In my most recent role I led the migration of our billing platform to a service-oriented architecture.",
            "The main challenge was reconciling conflicting requirements from finance, legal and engineering.",
            "I facilitated a series of workshops to align stakeholders on a pragmatic compromise.",
            "Consequently, we reduced invoice errors by roughly thirty percent within two quarters.",
            "I tend to prioritise by weighing business impact against the effort and risk involved.",
            "What attracts me to this position is the opportunity to shape the product strategy from the outset.",
            "I am comfortable navigating ambiguity, provided the overarching objectives are clearly articulated.",
            "Collaborating across disciplines has taught me to tailor my communication to each audience.",
            "When I had to get up to speed on data governance, I immersed myself in the regulations and sought feedback early.",
            "Ultimately, I believe sustainable results come from transparent processes and mutual trust.",
        ),
    ),
    "es": PhraseBank(
        name="Spanish",
        questions=(
            "¿Podría empezar hablándome un poco de usted?",
            "¿En qué trabajaba en su último puesto?",
            "¿Puede describir un proyecto difícil y cómo lo resolvió?",
            "¿Cómo suele colaborar con otros equipos?",
            "¿Por qué le interesa este puesto?",
            "¿Tiene alguna pregunta para nosotros?",
        ),
        everyday_answers=(
            "Trabajo en atención al cliente desde hace cuatro años.",
            "En mi último trabajo ayudaba a los clientes con sus pedidos.",
            "Me gusta trabajar en equipo y sé escuchar a los demás.",
            "El año pasado tuvimos muchos problemas con las entregas.",
            "Hablé con el almacén y juntos hicimos un plan nuevo.",
            "Después de eso las quejas bajaron bastante.",
            "Quiero aprender cosas nuevas en esta empresa.",
        ),
        advanced_answers=(
            "En mi puesto más reciente lideré la migración de nuestra plataforma de facturación.",
            "El mayor reto fue conciliar los requisitos contradictorios de finanzas, legal e ingeniería.",
            "Organicé varios talleres para alinear a las partes interesadas en torno a un compromiso pragmático.",
            "En consecuencia, redujimos los errores de facturación en aproximadamente un treinta por ciento.",
            "Suelo priorizar sopesando el impacto en el negocio frente al esfuerzo y el riesgo.",
            "Me atrae la posibilidad de influir en la estrategia del producto desde el principio.",
            "Colaborar con otras disciplinas me ha enseñado a adaptar mi comunicación a cada público.",
        ),
    ),
    "fr": PhraseBank(
        name="French",
        questions=(
            "Pourriez-vous commencer par vous présenter brièvement ?",
            "Sur quoi travailliez-vous dans votre dernier poste ?",
            "Pouvez-vous décrire un projet difficile et la façon dont vous l'avez géré ?",
            "Comment travaillez-vous avec les autres équipes ?",
            "Pourquoi ce poste vous intéresse-t-il ?",
            "Avez-vous des questions à nous poser ?",
        ),
        everyday_answers=(
            "Je travaille au service client depuis environ quatre ans.",
            "Dans mon dernier emploi j'aidais les clients avec leurs commandes.",
            "J'aime travailler en équipe et je sais écouter.",
            "L'année dernière nous avions beaucoup de retards de livraison.",
            "J'ai parlé avec l'entrepôt et nous avons fait un nouveau plan ensemble.",
            "Après cela, les réclamations ont beaucoup diminué.",
            "Je veux apprendre de nouvelles choses dans cette entreprise.",
        ),
        advanced_answers=(
            "Dans mon poste le plus récent, j'ai piloté la migration de notre plateforme de facturation.",
            "Le principal défi consistait à concilier les exigences contradictoires de la finance, du juridique et de l'ingénierie.",
            "J'ai animé une série d'ateliers afin d'aligner les parties prenantes sur un compromis pragmatique.",
            "Par conséquent, nous avons réduit les erreurs de facturation d'environ trente pour cent.",
            "J'ai tendance à prioriser en mettant en balance l'impact métier, l'effort et les risques.",
            "Ce qui m'attire, c'est la possibilité de façonner la stratégie produit dès le départ.",
            "Collaborer avec d'autres disciplines m'a appris à adapter mon discours à chaque interlocuteur.",
        ),
    ),
    "de": PhraseBank(
        name="German",
        questions=(
            "Könnten Sie sich zunächst kurz vorstellen?",
            "Woran haben Sie in Ihrer letzten Position gearbeitet?",
            "Können Sie ein schwieriges Projekt beschreiben und wie Sie es gelöst haben?",
            "Wie arbeiten Sie normalerweise mit anderen Teams zusammen?",
            "Warum interessieren Sie sich für diese Stelle?",
            "Haben Sie noch Fragen an uns?",
        ),
        everyday_answers=(
            "Ich arbeite seit ungefähr vier Jahren im Kundenservice.",
            "In meinem letzten Job habe ich Kunden bei ihren Bestellungen geholfen.",
            "Ich arbeite gern im Team und kann gut zuhören.",
            "Letztes Jahr hatten wir viele Probleme mit späten Lieferungen.",
            "Ich habe mit dem Lager gesprochen und wir haben zusammen einen neuen Plan gemacht.",
            "Danach gab es viel weniger Beschwerden.",
            "Ich möchte in dieser Firma Neues lernen.",
        ),
        advanced_answers=(
            "In meiner letzten Position habe ich die Migration unserer Abrechnungsplattform geleitet.",
            "Die größte Herausforderung bestand darin, widersprüchliche Anforderungen aus Finanzen, Recht und Technik in Einklang zu bringen.",
            "Ich habe mehrere Workshops moderiert, um die Beteiligten auf einen pragmatischen Kompromiss einzuschwören.",
            "Infolgedessen konnten wir die Rechnungsfehler um rund dreißig Prozent senken.",
            "Ich priorisiere, indem ich den geschäftlichen Nutzen gegen Aufwand und Risiko abwäge.",
            "Mich reizt vor allem die Möglichkeit, die Produktstrategie von Anfang an mitzugestalten.",
            "Die Zusammenarbeit über Fachgrenzen hinweg hat mich gelehrt, meine Kommunikation an das jeweilige Publikum anzupassen.",
        ),
    ),
    "pt": PhraseBank(
        name="Portuguese",
        questions=(
            "Pode começar por falar um pouco sobre si?",
            "Em que trabalhava na sua última função?",
            "Pode descrever um projeto difícil e como o resolveu?",
            "Como costuma trabalhar com outras equipas?",
            "Por que razão se interessa por esta vaga?",
            "Tem alguma pergunta para nós?",
        ),
        everyday_answers=(
            "Trabalho no apoio ao cliente há cerca de quatro anos.",
            "No meu último emprego ajudava os clientes com as encomendas.",
            "Gosto de trabalhar em equipa e sei ouvir os outros.",
            "No ano passado tivemos muitos problemas com entregas atrasadas.",
            "Falei com o armazém e fizemos um plano novo juntos.",
            "Depois disso as reclamações diminuíram bastante.",
            "Quero aprender coisas novas nesta empresa.",
        ),
        advanced_answers=(
            "Na minha função mais recente liderei a migração da nossa plataforma de faturação.",
            "O principal desafio foi conciliar requisitos contraditórios das áreas financeira, jurídica e de engenharia.",
            "Conduzi uma série de workshops para alinhar as partes interessadas num compromisso pragmático.",
            "Consequentemente, reduzimos os erros de faturação em cerca de trinta por cento.",
            "Costumo priorizar ponderando o impacto no negócio face ao esforço e ao risco.",
            "Atrai-me a oportunidade de moldar a estratégia do produto desde o início.",
            "Colaborar com outras disciplinas ensinou-me a adaptar a comunicação a cada público.",
        ),
    ),
    "it": PhraseBank(
        name="Italian",
        questions=(
            "Può iniziare parlandomi un po' di sé?",
            "Di cosa si occupava nel suo ultimo ruolo?",
            "Può descrivere un progetto difficile e come lo ha gestito?",
            "Come collabora di solito con gli altri team?",
            "Perché è interessato a questa posizione?",
            "Ha qualche domanda per noi?",
        ),
        everyday_answers=(
            "Lavoro nell'assistenza clienti da circa quattro anni.",
            "Nel mio ultimo lavoro aiutavo i clienti con i loro ordini.",
            "Mi piace lavorare in squadra e so ascoltare.",
            "L'anno scorso avevamo molti problemi con le consegne in ritardo.",
            "Ho parlato con il magazzino e abbiamo fatto un nuovo piano insieme.",
            "Dopo questo i reclami sono diminuiti molto.",
            "Voglio imparare cose nuove in questa azienda.",
        ),
        advanced_answers=(
            "Nel mio ruolo più recente ho guidato la migrazione della nostra piattaforma di fatturazione.",
            "La sfida principale era conciliare requisiti contrastanti di finanza, ufficio legale e ingegneria.",
            "Ho condotto una serie di workshop per allineare le parti interessate su un compromesso pragmatico.",
            "Di conseguenza abbiamo ridotto gli errori di fatturazione di circa il trenta per cento.",
            "Tendo a stabilire le priorità valutando l'impatto sul business rispetto allo sforzo e al rischio.",
            "Mi attrae la possibilità di definire la strategia del prodotto fin dall'inizio.",
            "Collaborare con altre discipline mi ha insegnato ad adattare la comunicazione a ogni interlocutore.",
        ),
    ),
    "nl": PhraseBank(
        name="Dutch",
        questions=(
            "Kunt u beginnen met iets over uzelf te vertellen?",
            "Waar werkte u aan in uw laatste functie?",
            "Kunt u een lastig project beschrijven en hoe u het hebt aangepakt?",
            "Hoe werkt u meestal samen met andere teams?",
            "Waarom bent u geïnteresseerd in deze functie?",
            "Heeft u nog vragen voor ons?",
        ),
        everyday_answers=(
            "Ik werk al ongeveer vier jaar in de klantenservice.",
            "In mijn vorige baan hielp ik klanten met hun bestellingen.",
            "Ik werk graag in een team en ik kan goed luisteren.",
            "Vorig jaar hadden we veel problemen met late leveringen.",
            "Ik heb met het magazijn gepraat en samen hebben we een nieuw plan gemaakt.",
            "Daarna waren er veel minder klachten.",
            "Ik wil in dit bedrijf nieuwe dingen leren.",
        ),
        advanced_answers=(
            "In mijn meest recente functie leidde ik de migratie van ons factureringsplatform.",
            "De grootste uitdaging was het verzoenen van tegenstrijdige eisen van financiën, juridische zaken en engineering.",
            "Ik heb een reeks workshops begeleid om de belanghebbenden op één lijn te krijgen over een pragmatisch compromis.",
            "Daardoor hebben we het aantal factuurfouten met ongeveer dertig procent verminderd.",
            "Ik stel prioriteiten door de zakelijke impact af te wegen tegen de inspanning en het risico.",
            "Wat mij aantrekt is de kans om de productstrategie vanaf het begin mee vorm te geven.",
            "Samenwerken met andere disciplines heeft me geleerd mijn communicatie op elk publiek af te stemmen.",
        ),
    ),
    "hi": PhraseBank(
        name="Hindi",
        questions=(
            "क्या आप अपने बारे में थोड़ा बता सकते हैं?",
            "आपकी पिछली नौकरी में आप किस काम पर थे?",
            "क्या आप किसी कठिन प्रोजेक्ट के बारे में बता सकते हैं?",
            "आप दूसरी टीमों के साथ कैसे काम करते हैं?",
            "आपको यह पद क्यों पसंद है?",
            "क्या आपके कोई सवाल हैं?",
        ),
        everyday_answers=(
            "मैं लगभग चार साल से ग्राहक सेवा में काम कर रहा हूँ।",
            "मेरी पिछली नौकरी में मैं ग्राहकों के ऑर्डर में मदद करता था।",
            "मुझे टीम में काम करना अच्छा लगता है।",
            "पिछले साल डिलीवरी में बहुत देर हो रही थी।",
            "मैंने गोदाम से बात की और हमने साथ मिलकर नई योजना बनाई।",
            "उसके बाद शिकायतें काफ़ी कम हो गईं।",
            "मैं इस कंपनी में नई चीज़ें सीखना चाहता हूँ।",
        ),
        advanced_answers=(
            "अपनी हाल की भूमिका में मैंने बिलिंग प्लेटफ़ॉर्म के स्थानांतरण का नेतृत्व किया।",
            "सबसे बड़ी चुनौती वित्त, विधि और इंजीनियरिंग की परस्पर विरोधी आवश्यकताओं में सामंजस्य बिठाना था।",
            "मैंने सभी हितधारकों को एक व्यावहारिक समझौते पर सहमत करने के लिए कई कार्यशालाएँ आयोजित कीं।",
            "परिणामस्वरूप बिलिंग की त्रुटियाँ लगभग तीस प्रतिशत कम हो गईं।",
            "मैं व्यावसायिक प्रभाव की तुलना प्रयास और जोखिम से करके प्राथमिकताएँ तय करता हूँ।",
            "मुझे शुरुआत से ही उत्पाद की रणनीति को आकार देने का अवसर आकर्षित करता है।",
            "विभिन्न विभागों के साथ सहयोग ने मुझे हर श्रोता के अनुसार संवाद करना सिखाया है।",
        ),
    ),
    "zh": PhraseBank(
        name="Chinese",
        spaced_script=False,
        questions=(
            "请 先 简单 介绍 一下 您 自己 。",
            "您 在 上 一 份 工作 中 负责 什么 ？",
            "能 谈谈 一个 困难 的 项目 以及 您 是 如何 处理 的 吗 ？",
            "您 通常 如何 与 其他 团队 合作 ？",
            "您 为什么 对 这个 职位 感兴趣 ？",
            "您 有 什么 问题 想 问 我们 吗 ？",
        ),
        everyday_answers=(
            "我 在 客户 服务 部门 工作 了 大约 四 年 。",
            "在 上 一 份 工作 中 ， 我 每天 帮助 客户 处理 订单 。",
            "我 喜欢 团队 合作 ， 也 很 会 倾听 。",
            "去年 我们 的 送货 经常 延迟 。",
            "我 和 仓库 沟通 ， 我们 一起 制定 了 新 计划 。",
            "之后 投诉 少 了 很多 。",
            "我 希望 在 这 家 公司 学习 新 东西 。",
        ),
        advanced_answers=(
            "在 最近 的 职位 上 ， 我 主导 了 计费 平台 的 迁移 工作 。",
            "最 大 的 挑战 是 协调 财务 、 法务 和 工程 部门 相互 矛盾 的 需求 。",
            "我 组织 了 一系列 研讨会 ， 使 各方 就 务实 的 折中 方案 达成 一致 。",
            "因此 ， 我们 在 两 个 季度 内 将 账单 错误 减少 了 约 百分之三十 。",
            "我 通常 会 权衡 业务 影响 与 投入 和 风险 来 确定 优先级 。",
            "吸引 我 的 是 能够 从 一开始 就 参与 制定 产品 战略 。",
            "跨 部门 协作 让 我 学会 了 根据 不同 受众 调整 沟通 方式 。",
        ),
    ),
    "ja": PhraseBank(
        name="Japanese",
        spaced_script=False,
        questions=(
            "まず 簡単 に 自己 紹介 を お願い し ます 。",
            "前 の 職場 で は どんな 仕事 を し て い まし た か 。",
            "難しかっ た プロジェクト と その 対応 に つい て 教え て ください 。",
            "他 の チーム と は どの よう に 協力 し て い ます か 。",
            "この 職 に 興味 を 持っ た 理由 は 何 です か 。",
            "何 か 質問 は あり ます か 。",
        ),
        everyday_answers=(
            "私 は 四 年 ほど カスタマー サポート で 働い て い ます 。",
            "前 の 仕事 で は 毎日 お客様 の 注文 を 手伝っ て い まし た 。",
            "チーム で 働く こと が 好き です 。",
            "去年 は 配送 の 遅れ が 多く あり まし た 。",
            "倉庫 と 話し合っ て 、 一緒 に 新しい 計画 を 作り まし た 。",
            "その 後 、 苦情 が かなり 減り まし た 。",
            "この 会社 で 新しい こと を 学び たい です 。",
        ),
        advanced_answers=(
            "直近 の 職務 で は 、 請求 プラットフォーム の 移行 を 主導 し まし た 。",
            "最大 の 課題 は 、 財務 、 法務 、 技術 部門 の 相反 する 要件 を 調整 する こと でし た 。",
            "関係者 の 合意 を 得る ため に 、 ワークショップ を 何 度 も 開催 し まし た 。",
            "その 結果 、 請求 ミス を 約 三十 パーセント 削減 でき まし た 。",
            "ビジネス へ の 影響 と 工数 や リスク を 比較 し て 優先 順位 を 決め ます 。",
            "製品 戦略 を 初期 段階 から 形作れる 点 に 魅力 を 感じ て い ます 。",
            "部門 を 越え た 協働 を 通じ て 、 相手 に 合わせ た 伝え 方 を 学び まし た 。",
        ),
    ),
    "ko": PhraseBank(
        name="Korean",
        questions=(
            "먼저 간단하게 자기소개를 해 주시겠어요?",
            "이전 직장에서는 어떤 일을 하셨나요?",
            "어려웠던 프로젝트와 해결 방법에 대해 말씀해 주세요.",
            "다른 팀과는 보통 어떻게 협업하시나요?",
            "이 직무에 관심을 갖게 된 이유는 무엇인가요?",
            "저희에게 궁금한 점이 있으신가요?",
        ),
        everyday_answers=(
            "저는 약 사 년 동안 고객 지원 업무를 했습니다.",
            "이전 직장에서는 매일 고객의 주문을 도와드렸습니다.",
            "저는 팀으로 일하는 것을 좋아하고 잘 듣는 편입니다.",
            "작년에는 배송 지연 문제가 많았습니다.",
            "창고 팀과 이야기해서 함께 새로운 계획을 세웠습니다.",
            "그 후로 불만이 많이 줄었습니다.",
            "이 회사에서 새로운 것을 배우고 싶습니다.",
        ),
        advanced_answers=(
            "최근 직무에서 저는 청구 플랫폼 이전 프로젝트를 주도했습니다.",
            "가장 큰 과제는 재무, 법무, 엔지니어링 부서의 상충되는 요구 사항을 조율하는 것이었습니다.",
            "이해관계자들이 현실적인 타협안에 합의하도록 여러 차례 워크숍을 진행했습니다.",
            "그 결과 두 분기 만에 청구 오류를 약 삼십 퍼센트 줄였습니다.",
            "저는 비즈니스 영향과 투입 노력 및 위험을 비교하여 우선순위를 정합니다.",
            "처음부터 제품 전략을 함께 만들어 갈 수 있다는 점이 매력적입니다.",
            "여러 부서와 협업하면서 상대에 맞게 소통하는 법을 배웠습니다.",
        ),
    ),
    "ar": PhraseBank(
        name="Arabic",
        questions=(
            "هل يمكنك أن تبدأ بالحديث قليلاً عن نفسك؟",
            "ما الذي كنت تعمل عليه في وظيفتك الأخيرة؟",
            "هل يمكنك وصف مشروع صعب وكيف تعاملت معه؟",
            "كيف تتعاون عادةً مع الفرق الأخرى؟",
            "لماذا أنت مهتم بهذه الوظيفة؟",
            "هل لديك أي أسئلة لنا؟",
        ),
        everyday_answers=(
            "أعمل في خدمة العملاء منذ حوالي أربع سنوات.",
            "في وظيفتي الأخيرة كنت أساعد العملاء في طلباتهم كل يوم.",
            "أحب العمل ضمن فريق وأجيد الاستماع.",
            "في العام الماضي كانت لدينا مشكلة كبيرة في تأخر التوصيل.",
            "تحدثت مع المستودع ووضعنا خطة جديدة معاً.",
            "بعد ذلك انخفضت الشكاوى كثيراً.",
            "أريد أن أتعلم أشياء جديدة في هذه الشركة.",
        ),
        advanced_answers=(
            "في دوري الأخير قدت عملية نقل منصة الفوترة الخاصة بنا.",
            "كان التحدي الأكبر هو التوفيق بين المتطلبات المتعارضة لأقسام المالية والشؤون القانونية والهندسة.",
            "أدرت سلسلة من ورش العمل لتوحيد رؤية الأطراف المعنية حول حل وسط عملي.",
            "ونتيجة لذلك خفضنا أخطاء الفواتير بنحو ثلاثين بالمئة خلال ربعين.",
            "أحدد الأولويات من خلال الموازنة بين الأثر على العمل والجهد والمخاطر.",
            "ما يجذبني هو فرصة المساهمة في رسم استراتيجية المنتج منذ البداية.",
            "علمني التعاون مع تخصصات مختلفة أن أكيّف أسلوب تواصلي مع كل جمهور.",
        ),
    ),
    "tr": PhraseBank(
        name="Turkish",
        questions=(
            "Bize biraz kendinizden bahseder misiniz?",
            "Son görevinizde neler üzerinde çalışıyordunuz?",
            "Zorlu bir projeyi ve onu nasıl yönettiğinizi anlatır mısınız?",
            "Diğer ekiplerle genellikle nasıl çalışırsınız?",
            "Bu pozisyonla neden ilgileniyorsunuz?",
            "Bize sormak istediğiniz bir şey var mı?",
        ),
        everyday_answers=(
            "Yaklaşık dört yıldır müşteri hizmetlerinde çalışıyorum.",
            "Son işimde her gün müşterilere siparişleri konusunda yardım ediyordum.",
            "Ekip çalışmasını seviyorum ve iyi bir dinleyiciyim.",
            "Geçen yıl teslimatlarda çok gecikme yaşadık.",
            "Depoyla konuştum ve birlikte yeni bir plan yaptık.",
            "Ondan sonra şikayetler çok azaldı.",
            "Bu şirkette yeni şeyler öğrenmek istiyorum.",
        ),
        advanced_answers=(
            "En son görevimde faturalama platformumuzun taşınmasına liderlik ettim.",
            "En büyük zorluk finans, hukuk ve mühendislik ekiplerinin çelişen gereksinimlerini uzlaştırmaktı.",
            "Paydaşları pragmatik bir uzlaşmada buluşturmak için bir dizi çalıştay düzenledim.",
            "Sonuç olarak fatura hatalarını iki çeyrekte yaklaşık yüzde otuz azalttık.",
            "Öncelikleri iş etkisini çaba ve riskle karşılaştırarak belirlerim.",
            "Beni bu pozisyona çeken şey ürün stratejisini en baştan şekillendirme fırsatı.",
            "Farklı disiplinlerle çalışmak bana iletişimimi her kitleye göre uyarlamayı öğretti.",
        ),
    ),
    "pl": PhraseBank(
        name="Polish",
        questions=(
            "Czy mógłby Pan zacząć od krótkiego przedstawienia się?",
            "Czym zajmował się Pan na ostatnim stanowisku?",
            "Czy może Pan opisać trudny projekt i to, jak sobie z nim poradził?",
            "Jak zwykle współpracuje Pan z innymi zespołami?",
            "Dlaczego interesuje Pana to stanowisko?",
            "Czy ma Pan do nas jakieś pytania?",
        ),
        everyday_answers=(
            "Pracuję w obsłudze klienta od około czterech lat.",
            "W ostatniej pracy codziennie pomagałem klientom z zamówieniami.",
            "Lubię pracę w zespole i umiem słuchać.",
            "W zeszłym roku mieliśmy dużo opóźnionych dostaw.",
            "Porozmawiałem z magazynem i razem zrobiliśmy nowy plan.",
            "Potem skarg było dużo mniej.",
            "Chcę uczyć się nowych rzeczy w tej firmie.",
        ),
        advanced_answers=(
            "Na ostatnim stanowisku kierowałem migracją naszej platformy rozliczeniowej.",
            "Największym wyzwaniem było pogodzenie sprzecznych wymagań działów finansów, prawnego i inżynierii.",
            "Poprowadziłem serię warsztatów, aby uzgodnić z interesariuszami pragmatyczny kompromis.",
            "W rezultacie w ciągu dwóch kwartałów ograniczyliśmy błędy w fakturach o mniej więcej trzydzieści procent.",
            "Ustalam priorytety, zestawiając wpływ na biznes z nakładem pracy i ryzykiem.",
            "Przyciąga mnie możliwość kształtowania strategii produktu od samego początku.",
            "Współpraca z różnymi dziedzinami nauczyła mnie dopasowywać sposób komunikacji do odbiorcy.",
        ),
    ),
    "ru": PhraseBank(
        name="Russian",
        questions=(
            "Не могли бы вы для начала немного рассказать о себе?",
            "Чем вы занимались на последнем месте работы?",
            "Расскажите о сложном проекте и о том, как вы с ним справились.",
            "Как вы обычно работаете с другими командами?",
            "Почему вас интересует эта должность?",
            "Есть ли у вас вопросы к нам?",
        ),
        everyday_answers=(
            "Я работаю в службе поддержки клиентов около четырёх лет.",
            "На прошлой работе я каждый день помогал клиентам с заказами.",
            "Мне нравится работать в команде, и я умею слушать.",
            "В прошлом году у нас было много задержек с доставкой.",
            "Я поговорил со складом, и мы вместе составили новый план.",
            "После этого жалоб стало намного меньше.",
            "Я хочу учиться новому в этой компании.",
        ),
        advanced_answers=(
            "На последней должности я руководил переносом нашей платформы биллинга.",
            "Главной трудностью было согласовать противоречивые требования финансового, юридического и инженерного отделов.",
            "Я провёл серию семинаров, чтобы прийти с заинтересованными сторонами к прагматичному компромиссу.",
            "В результате за два квартала мы сократили ошибки в счетах примерно на тридцать процентов.",
            "Я расставляю приоритеты, соотнося влияние на бизнес с трудозатратами и рисками.",
            "Меня привлекает возможность формировать стратегию продукта с самого начала.",
            "Работа с разными специалистами научила меня подстраивать стиль общения под аудиторию.",
        ),
    ),
    "sr": PhraseBank(
        name="Serbian",
        questions=(
            "Možete li za početak reći nešto o sebi?",
            "Na čemu ste radili na prethodnom poslu?",
            "Možete li opisati jedan težak projekat i kako ste ga rešili?",
            "Kako obično sarađujete sa drugim timovima?",
            "Zašto vas zanima ova pozicija?",
            "Imate li neka pitanja za nas?",
        ),
        everyday_answers=(
            "Radim u korisničkoj podršci oko četiri godine.",
            "Na prošlom poslu sam svaki dan pomagao kupcima oko porudžbina.",
            "Volim timski rad i dobro slušam druge.",
            "Prošle godine smo imali mnogo kašnjenja u isporuci.",
            "Razgovarao sam sa magacinom i zajedno smo napravili novi plan.",
            "Posle toga je bilo mnogo manje žalbi.",
            "Želim da naučim nove stvari u ovoj firmi.",
        ),
        advanced_answers=(
            "Na poslednjoj poziciji vodio sam migraciju naše platforme za naplatu.",
            "Najveći izazov bio je usklađivanje suprotstavljenih zahteva finansija, pravne službe i inženjeringa.",
            "Organizovao sam niz radionica kako bih uskladio interesne strane oko pragmatičnog kompromisa.",
            "Kao rezultat toga, smanjili smo greške u fakturama za otprilike trideset procenata.",
            "Prioritete određujem tako što poslovni uticaj odmeravam u odnosu na trud i rizik.",
            "Privlači me mogućnost da od samog početka oblikujem strategiju proizvoda.",
            "Saradnja sa različitim strukama naučila me je da komunikaciju prilagodim svakoj publici.",
        ),
    ),
}
