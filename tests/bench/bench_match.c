/*
 * bench_match.c — normalise+match throughput against a naive baseline.
 *
 * Generates, from a fixed-seed PRNG, a corpus of posts (mixed Chinese and
 * English, 20-140 characters; about a tenth carry a keyword, a third of
 * those disguised: traditional characters, full-width letters, separators,
 * zero-width spaces) and rule sets of 100, 1,000, 10,000 and 50,000
 * literal keywords in topics of 10-50 (any, any+none, all groups, where)
 * plus a few regex keywords.  Rules are YAML text loaded by the real loader.
 * For each size it times match_post() over every post (median of passes),
 * then a naive baseline on the same posts: each topic's keywords as one
 * PCRE2 JIT alternation run topic by topic on the normalised text (on the
 * first posts only when it is slow; the rate is per post either way).
 * Each size ends with one "bench-match keywords=K ..." line.  Single
 * thread.  Build with -DBENCH_HYPERSCAN and libhs for a Hyperscan line.
 * --emit-rules and --emit-posts write the same rule set and posts (JSON
 * lines, the first posts of the corpus) to files instead, for the
 * end-to-end benchmark (tests/bench/bench_e2e.sh).
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "decoder.h"
#include "matcher.h"
#include "normalize.h"
#include "rules.h"
#include "xmalloc.h"

#ifdef BENCH_HYPERSCAN
#include <hs/hs.h>
#endif

#define MASTER_KWS	50000
#define THUOCL_DIR	"/work/shared/data/thuocl-lexicon"

/* Frequent simplified characters, most frequent first. */
static const char common_zh[] =
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生"
    "能而子那得于着下自之年过发后作里用道行所然家种事成方多经么去法学如都"
    "同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日军"
    "者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由"
    "问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话"
    "合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真"
    "论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受"
    "目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社便空"
    "决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记"
    "南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识"
    "候带导争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元英士证近"
    "失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集百需"
    "价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容"
    "照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图"
    "念六引历首医局突专费号尽另周较注语仅考落青随选列武红响虽推势参希古众"
    "构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章音跟志底站"
    "严巴例防族供效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织"
    "害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值仍男钱破网热助倒育属坐帝"
    "限船脸职速刻乐否刚威毛状率甚独球般普怕弹校苦创假久错承印晚兰试股拿脑"
    "预谁益阳若哪微尼继送急血惊伤素药适波夜省初喜卫源食险待述陆习置居劳财"
    "环排福纳欢雷警获模充负云停木游龙树疑层冷洲冲射略范竟句室异激汉村哈策"
    "演简卡罪判担州静退既衣您宗积余痛检差富灵协角占配征修皮挥胜降阶审沉坚"
    "善妈刘读啊超免压银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控税左"
    "右份穿艺背阵草脚概恶块顿敢守酒岛托央户烈洋哥索胡款靠评版宝座释景顾弟"
    "登货互付伯慢欧换闻危忙核暗姐介坏讨丽良序升监临亮露永呼味野架域沙掉括"
    "舰鱼杂误湾吉减编楚肯测败屋跑梦散温困剑渐封救贵枪缺楼县尚毫移娘朋画班"
    "智亦耳恩短掌恐遗固席松秘谢鲁遇康虑幸均销钟诗藏赶剧票损忽巨炮旧端探湖"
    "录叶春乡附吸予礼港雨呀板庭妇归睛饭额含顺输摇招婚脱补谓督毒油疗旅泽材"
    "灭逐莫笔亡鲜词圣择寻厂睡博勒烟授诺伦岸奥唐卖俄炸载洛健堂旁宫喝借君禁"
    "阴园谋宋避抓荣姑孙逃牙束跳顶玉镇雪午练迫爷篇肉嘴馆遍凡础洞卷坦牛宁纸"
    "诸训私庄祖丝翻暴森塔默握戏隐熟骨访弱蒙歌店鬼软典欲萨伙遭盘爸扩盖弄雄"
    "稳忘亿刺拥徒姆杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购替塞努休虎扬途侵刑绿"
    "兄迅套贸毕唯谷轮库迹尤竞街促延震弃甲伟麻川申缓潜闪售灯针哲络抵朱埃抱"
    "鼓植纯夏忍页杰筑折郑贝尊吴秀混臣雅振染盛怒舞圆搞狂措姓残秋培迷诚宽宇"
    "猛摆梅毁伸摩盟末乃悲拍丁赵硬麦蒋操耶阻订彩抽赞魔纷沿喊违妹浪汇币丰蓝"
    "殊献桌啦瓦莱援译夺汽烧距裁偏符勇触课敬哭懂墙袭召罚侠厅拜巧侧韩冒债曼"
    "融惯享戴童犹乘挂奖绍厚纵障讯涉彻刊丈爆乌役描洗玛患妙镜唱烦签仙彼弗症"
    "仿倾牌陷鸟轰咱菜闭奋庆撤泪茶疾缘播朗杜奶季丹狗尾仪偷奔珠虫驻孔宜艾桥"
    "淡翼恨繁寒伴叹旦愈潮粮缩罢聚径恰挑袋灰捕徐珍幕映裂泰隔启尖忠累炎暂估"
    "泛荒偿横拒瑞忆孤鼻闹羊呆厉衡胞零穷舍码赫婆魂灾洪腿胆津俗辩胸晓劲贫仁"
    "偶辑邦恢赖圈摸仰润堆碰艇稍迟辆废净凶署壁御奉旋冬矿抬蛋晨伏吹鸡倍糊秦"
    "盾杯租骑乏隆诊奴摄丧污渡旗甘耐凭扎抢绪粗肩梁幻菲皆碎宙叔岩荡综爬荷悉"
    "蒂返井壮薄悄扫敏碍殖详迪矛霍允幅撒剩凯颗骂赏液番箱贴漫酸郎腰舒眉忧浮"
    "辛恋餐吓挺励辞艘键伍峰尺昨黎辈贯侦滑券崇扰宪绕趋慈乔阅汗枝拖墨胁插箭"
    "腊粉泥氏彭拔骗凤慧媒佩愤扑龄驱惜豪掩兼跃尸肃帕驶堡届欣惠册储飘桑闲惨"
    "洁踪勃宾频仇磨递邪撞拟滚奏巡颜剂绩贡疯坡瞧截燃焦殿伪柳锁逼颇昏劝呈搜"
    "勤戒驾漂饮曹朵仔柔俩孟腐幼践籍牧凉牲佳娜浓芳稿竹腹跌逻垂遵脉貌柏狱猜"
    "怜惑陶兽帐饰贷昌叙躺钢沟寄扶铺邓寿惧询汤盗肥尝匆辉奈扣廷澳嘛董迁凝慰"
    "厌脏腾幽怨鞋丢埋泉涌辖躲晋紫艰魏吾慌祝邮吐狠鉴曰械咬邻赤挤弯椅陪割揭"
    "韦悟聪雾锋梯猫祥阔誉筹丛牵鸣沈阁穆屈旨袖猎臂蛇贺柱抛鼠瑟戈牢逊迈欺吨"
    "琴衰瓶恼燕仲诱狼池疼卢仗冠粒遥吕玄尘冯抚浅敦纠钻晶岂峡苍喷耗凌敲菌赔"
    "涂粹扁亏寂煤熊恭湿循暖糖赋抑秩帽哀宿踏烂袁侯抖夹昆肝擦猪炼恒慎搬纽纹"
    "玻渔磁铜齿跨押怖漠疲叛遣兹祭醉拳弥斜档稀捷肤疫肿豆削岗晃吞宏癌肚隶履"
    "涨耀扭坛拨沃绘伐堪仆郭牺歼墓雇廉契拼惩捉覆刷劫嫌瓜歇雕闷乳串娃缴唤赢"
    "莲霸桃妥瘦搭赴岳嘉舱俊址庞耕锐缝悔邀玲惟斥宅添挖呵讼氧浩羽斤酷掠妖祸"
    "侍乙妨贪挣汪尿莉悬唇翰仓轨枚盐览傅帅庙芬屏寺胖璃愚滴疏萧姿颤丑劣柯寸"
    "扔盯辱匹俱辨饿蜂哦腔郁溃谨糟葛苗肠忌溜鸿爵鹏鹰笼丘桂滋聊挡纲肌茨壳痕"
    "碗穴膀卓贤卧膜毅锦欠哩函茫昂薛皱夸豫胃舌剥傲拾窝睁携陵哼棉晴铃填饲渴"
    "吻扮逆脆喘罩卜炉柴愉绳胎蓄眠竭喂傻慕浑奸扇柜悦拦诞饱乾泡贼亭夕爹酬儒"
    "姻卵氛泄杆挨僧蜜吟猩遂狭肖甜霞驳裕顽於摘矮秒卿畜咽披辅勾盆疆赌塑畏吵"
    "囊嗯泊肺骤缠冈羞瞪吊贾漏斑涛悠鹿俘锡卑葬铭滩嫁催璇翅盒蛮矣潘歧赐鲍锅"
    "廊拆灌勉盲宰佐啥胀扯禧辽抹筒棋裤唉朴咐孕誓喉妄拘链驰栏逝窃艳臭纤玑棵"
    "趁匠盈翁愁瞬婴孝颈倘浙谅蔽畅赠妮莎尉冻跪闯葡後厨鸭颠遮谊圳吁仑辟瘤嫂"
    "陀框谭亨钦庸歉芝吼甫衫摊宴嘱衷娇陕矩浦讶耸裸碧摧薪淋耻胶屠鹅饥盼脖虹"
    "翠崩账萍逢赚撑翔倡绵猴枯巫昭怔渊凑溪蠢禅阐旺寓藤匪伞碑挪琼脂谎慨菩萄"
    "狮掘抄岭晕逮砍掏狄晰罕挽脾舟痴蔡剪脊弓懒叉拐喃僚捐姊骚拓歪粘柄坑陌窄"
    "湘兆崖骄刹鞭芒筋聘钩棍嚷腺弦焰耍俯厘愣厦恳饶钉寡憾摔叠惹喻谱愧煌徽溶"
    "坠煞巾滥洒堵瓷咒姨棒郡浴媚稣淮哎屁漆淫巢吩撰啸滞玫硕钓蝶膝姚茂躯吏猿"
    "寨恕渠戚辰舶颁惶狐讽笨袍嘲啡泼衔倦涵雀旬僵撕肢垄夷逸茅侨舆窑涅蒲谦杭"
    "噢弊勋刮郊凄捧浸砖鼎篮蒸饼亩肾陡爪兔殷贞荐哑炭坟眨搏咳拢舅昧擅爽咖搁"
    "禄雌哨巩绢螺裹昔轩谬谍龟媳姜瞎冤鸦蓬巷琳栽沾诈斋瞒彪厄咨纺罐桶壤糕颂"
    "膨谐垒咕隙辣绑宠嘿兑霉挫稽辐乞纱裙嘻哇绣杖塘衍轴攀膊譬斌祈踢肆坎轿棚"
    "泣屡躁邱凰溢椎砸趟帘帆栖窜丸斩堤塌贩厢掀喀乖谜捏阎滨虏匙芦苹卸沼钥株"
    "祷剖熙哗劈怯棠胳桩瑰娱娶沫嗓蹲焚淘嫩韵衬匈钧竖峻豹捞菊鄙魄兜哄颖镑屑"
    "蚁壶怡渗秃迦旱哟咸焉谴宛稻铸锻伽詹毙恍贬烛骇芯汁桓坊驴朽靖佣汝碌迄冀"
    "荆崔雁绅珊榜诵傍彦醇笛禽勿娟瞄幢寞睹贿踩霆呜拱妃蔑谕缚诡篷淹腕煮倩卒"
    "勘馨逗甸贱炒灿敞蜡囚栗辜垫妒魁谣寇蛙淑浆粪";

static const char *const en_words[] = {
	"the", "a", "of", "and", "to", "in", "is", "it", "that", "for", "on",
	"was", "with", "as", "at", "by", "this", "from", "we", "they", "be",
	"are", "have", "not", "but", "all", "can", "new", "more", "one",
	"people", "city", "today", "just", "news", "after", "over", "report",
	"said", "video", "night", "day", "water", "road", "school", "police",
	"local", "again", "still", "near", "there", "time", "year", "week",
	"home", "car", "train", "price", "store", "online", "phone", "market",
	"health", "food", "rain", "wind", "fire", "power", "service", "line",
	"update", "breaking", "photo", "watch", "via", "please", "share",
	"live", "check", "thanks", "good", "bad", "big", "small", "long",
	"morning", "evening", "weekend", "team", "game", "music", "coffee",
	"street", "bridge", "airport", "hospital", "company", "government",
};

static const char *const en_topic_words[] = {
	"recall", "outbreak", "flood", "flooding", "earthquake", "typhoon",
	"wildfire", "explosion", "poisoning", "contaminated", "evacuation",
	"landslide", "collapse", "blackout", "shortage", "protest", "strike",
	"scandal", "fraud", "leak", "injured", "casualties", "rescue",
	"vaccine", "infection", "quarantine", "smog", "pollution", "tsunami",
	"storm", "hail", "drought", "heatwave", "derailment", "crash",
	"overdose", "counterfeit", "expired", "spoiled", "toxic",
};

static const char syllables[][4] = {
	"ba", "be", "bi", "bo", "bu", "ka", "ke", "ki", "ko", "ku", "la", "le",
	"li", "lo", "lu", "ma", "me", "mi", "mo", "mu", "na", "ne", "ni", "no",
	"nu", "ra", "re", "ri", "ro", "ru", "sa", "se", "si", "so", "su", "ta",
	"te", "ti", "to", "tu", "va", "ve", "vi", "vo", "za", "ze", "zi", "zo",
	"dan", "ter", "vin", "mor", "gal", "pen", "rix", "tos",
};

/* Simplified -> traditional, for disguised keywords. */
static const char *const trad[][2] = {
	{ "沟", "溝" }, { "国", "國" }, { "会", "會" }, { "说", "說" },
	{ "时", "時" }, { "过", "過" }, { "这", "這" }, { "对", "對" },
	{ "为", "為" }, { "们", "們" }, { "来", "來" }, { "个", "個" },
	{ "学", "學" }, { "长", "長" }, { "开", "開" }, { "关", "關" },
	{ "见", "見" }, { "问", "問" }, { "实", "實" }, { "现", "現" },
	{ "经", "經" }, { "动", "動" }, { "电", "電" }, { "发", "發" },
	{ "车", "車" }, { "门", "門" }, { "东", "東" }, { "药", "藥" },
	{ "医", "醫" }, { "险", "險" }, { "卫", "衛" }, { "饭", "飯" },
	{ "鱼", "魚" }, { "鸡", "雞" }, { "肠", "腸" }, { "毒", "毒" },
	{ "灾", "災" }, { "难", "難" }, { "风", "風" }, { "龙", "龍" },
	{ "区", "區" }, { "县", "縣" }, { "乡", "鄉" }, { "镇", "鎮" },
	{ "价", "價" }, { "钱", "錢" }, { "银", "銀" }, { "质", "質" },
	{ "检", "檢" }, { "测", "測" }, { "报", "報" }, { "导", "導" },
	{ "级", "級" }, { "产", "產" }, { "业", "業" }, { "务", "務" },
	{ "员", "員" }, { "费", "費" }, { "线", "線" }, { "网", "網" },
	{ "热", "熱" }, { "点", "點" }, { "处", "處" }, { "场", "場" },
	{ "环", "環" }, { "农", "農" }, { "应", "應" }, { "体", "體" },
};

static const char *const veto_words[] = {
	"演习", "电影", "广告", "抽奖", "测试", "小说", "drill", "movie",
};

static const char *const platforms[] = {
	"weibo", "douyin", "wechat", "twitter",
};

/* The few regex keywords: (topic slot, source as YAML double-quoted). */
static const char *const regexes[] = {
	"/毒(奶粉|大米|疫苗)/",
	"/\\\\d+(\\\\.\\\\d+)?级地震/",
	"/recall(s|ed)?\\\\s+of/i",
	"/(食物|food)\\\\s*中毒/",
};
/* A regex-only topic: it is evaluated on every post. */
static const char regex_only[] = "/[0-9]{4,}元/";

/* --- deterministic randomness ------------------------------------------ */

static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t
rnd(uint32_t n)
{
	return (uint32_t)(((rng() >> 32) * (uint64_t)n) >> 32);
}

static double
rndf(void)
{
	return (double)(rng() >> 11) / 9007199254740992.0;
}

/* --- growable strings -------------------------------------------------- */

struct sbuf {
	char	*s;
	size_t	 n;
	size_t	 cap;
};

static void
sb_addn(struct sbuf *b, const char *s, size_t n)
{
	b->s = xgrow(b->s, &b->cap, b->n + n + 1, 1);
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void
sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	b->s = xgrow(b->s, &b->cap, b->n + (size_t)n + 1, 1);
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

/* --- vocabulary -------------------------------------------------------- */

static const char *zh_chars[1200];	/* pointers into common_zh */
static size_t nzh;

static void
zh_init(void)
{
	const char *p = common_zh;

	while (*p != '\0' && nzh < sizeof zh_chars / sizeof zh_chars[0]) {
		zh_chars[nzh++] = p;
		p += 3;
	}
}

/* A common character, skewed towards the most frequent. */
static void
zh_common(struct sbuf *b)
{
	double u = rndf();

	sb_addn(b, zh_chars[(size_t)(u * u * (double)nzh)], 3);
}

/* A common character, any of them alike. */
static void
zh_uniform(struct sbuf *b)
{
	sb_addn(b, zh_chars[rnd((uint32_t)nzh)], 3);
}

/* Any character of the CJK block (rare characters, some traditional). */
static void
zh_any(struct sbuf *b)
{
	uint32_t cp = 0x4e00 + rnd(0x9fa5 - 0x4e00);
	char u[3];

	u[0] = (char)(0xe0 | (cp >> 12));
	u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	u[2] = (char)(0x80 | (cp & 0x3f));
	sb_addn(b, u, 3);
}

/* A string set for keyword uniqueness. */
struct sset {
	char	**v;
	size_t	  cap;
	size_t	  n;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static bool
sset_add(struct sset *s, const char *str)
{
	size_t i, k;
	char **old;

	if (s->n * 2 >= s->cap) {
		old = s->v;
		k = s->cap;
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = xcalloc(s->cap, sizeof *s->v);
		s->n = 0;
		for (i = 0; i < k; i++)
			if (old[i] != NULL)
				sset_add(s, old[i]);
		free(old);
	}
	for (i = hash_str(str) & (s->cap - 1); s->v[i] != NULL;
	    i = (i + 1) & (s->cap - 1))
		if (strcmp(s->v[i], str) == 0)
			return false;
	s->v[i] = (char *)str;
	s->n++;
	return true;
}

struct vocab {
	char	**kw;
	size_t	  n;
};

static void
gen_en_keyword(struct sbuf *b)
{
	uint32_t i, n;

	if (rnd(4) == 0) {
		sb_add(b, en_topic_words[rnd(sizeof en_topic_words /
		    sizeof en_topic_words[0])]);
		if (rnd(2) == 0) {
			sb_add(b, " ");
			sb_add(b, en_topic_words[rnd(sizeof en_topic_words /
			    sizeof en_topic_words[0])]);
		}
		return;
	}
	n = 2 + rnd(3);
	for (i = 0; i < n; i++)
		sb_add(b, syllables[rnd(sizeof syllables /
		    sizeof syllables[0])]);
	if (rnd(5) == 0) {
		sb_add(b, " ");
		sb_add(b, en_topic_words[rnd(sizeof en_topic_words /
		    sizeof en_topic_words[0])]);
	}
}

/*
 * MASTER_KWS distinct keywords: 85% Chinese of 2-4 characters (common
 * characters, 40% from the whole CJK block; 10% of them 2 characters long),
 * 15% English words and pairs.  With lex (THUOCL words), Chinese keywords come from it instead.
 */
static void
gen_vocab(struct vocab *v, char **lex, size_t nlex)
{
	struct sset set = { NULL, 0, 0 };
	struct sbuf b = { NULL, 0, 0 };
	uint32_t len, i;
	size_t li = 0;

	v->kw = xcalloc(MASTER_KWS, sizeof *v->kw);
	v->n = 0;
	while (v->n < MASTER_KWS) {
		b.n = 0;
		if (b.s != NULL)
			b.s[0] = '\0';
		if (rnd(100) < 85) {
			if (lex != NULL && li < nlex)
				sb_add(&b, lex[li++]);
			else {
				len = 2 + (rnd(10) < 1 ? 0 : 1 + rnd(2));
				for (i = 0; i < len; i++) {
					if (rnd(10) < 6)
						zh_uniform(&b);
					else
						zh_any(&b);
				}
			}
		} else
			gen_en_keyword(&b);
		if (b.n == 0)
			continue;
		v->kw[v->n] = xstrdup(b.s);
		if (!sset_add(&set, v->kw[v->n])) {
			free(v->kw[v->n]);
			continue;
		}
		v->n++;
	}
	free(set.v);
	free(b.s);
}

/* Shuffles lexicon words deterministically; returns NULL when absent. */
static char **
load_thuocl(const char *dir, size_t *np)
{
	static const char *const files[] = {
		"THUOCL_food.txt", "THUOCL_medical.txt", "THUOCL_diming.txt",
		"THUOCL_law.txt", "THUOCL_caijing.txt", "THUOCL_car.txt",
		"THUOCL_IT.txt", "THUOCL_animal.txt",
	};
	struct sset set = { NULL, 0, 0 };
	char **v = NULL, path[4096], *line, *p, *e, *w, *t;
	size_t n = 0, cap = 0, i, k;
	FILE *fp;
	long sz;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		if ((fp = fopen(path, "rb")) == NULL)
			continue;
		fseek(fp, 0, SEEK_END);
		sz = ftell(fp);
		fseek(fp, 0, SEEK_SET);
		line = xmalloc((size_t)sz + 1);
		sz = (long)fread(line, 1, (size_t)sz, fp);
		line[sz] = '\0';
		fclose(fp);
		p = line;
		if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
			p += 3;
		while (*p != '\0') {
			e = p + strcspn(p, "\r\n");
			w = p;
			p = *e != '\0' ? e + 1 : e;
			*e = '\0';
			if ((t = strchr(w, '\t')) != NULL)
				*t = '\0';
			while (*w == ' ')
				w++;
			k = strlen(w);
			while (k > 0 && w[k - 1] == ' ')
				w[--k] = '\0';
			if (k < 6 || k > 12 || strpbrk(w, "\"\\:#") != NULL)
				continue;
			w = xstrdup(w);
			if (!sset_add(&set, w)) {
				free(w);
				continue;
			}
			v = xgrow(v, &cap, n + 1, sizeof *v);
			v[n++] = w;
		}
		free(line);
	}
	free(set.v);
	if (n == 0) {
		free(v);
		return NULL;
	}
	for (i = n - 1; i > 0; i--) {
		k = rnd((uint32_t)i + 1);
		w = v[i];
		v[i] = v[k];
		v[k] = w;
	}
	*np = n;
	return v;
}

/* --- corpus ------------------------------------------------------------ */

struct corpus {
	char			*text;
	size_t			 len;
	uint32_t		*off;		/* n + 1 offsets */
	uint8_t			*plat;
	size_t			 n;
	size_t			 planted;
	size_t			 disguised;
};

static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Writes kw disguised: traditional characters, full-width, separators. */
static void
disguise(struct sbuf *b, const char *kw)
{
	static const char *const seps[] = {
		"*", " ", ".", "\xe2\x80\x8b", "-", "~", "\xe3\x80\x81",
	};
	const char *sep = seps[rnd(sizeof seps / sizeof seps[0])];
	const char *p = kw;
	uint32_t mode = rnd(3);
	size_t i, clen;
	bool first = true;
	char fw[3];

	while (*p != '\0') {
		clen = 1;
		while ((p[clen] & 0xc0) == 0x80)
			clen++;
		if (mode == 2 && !first && !(clen == 1 && p[-1] != ' ' &&
		    *p != ' ' && ((unsigned char)p[-1] & 0x80) == 0 &&
		    rnd(2)))
			sb_add(b, sep);
		first = false;
		if (clen == 3 && mode != 2) {
			for (i = 0; i < sizeof trad / sizeof trad[0]; i++)
				if (memcmp(trad[i][0], p, 3) == 0)
					break;
			if (i < sizeof trad / sizeof trad[0])
				sb_add(b, trad[i][1]);
			else
				sb_addn(b, p, 3);
		} else if (clen == 1 && mode != 2 && *p >= 'a' && *p <= 'z') {
			/* full-width Latin, U+FF41.. */
			fw[0] = (char)0xef;
			fw[1] = (char)(0xbd);
			fw[2] = (char)(0x81 + (*p - 'a'));
			sb_addn(b, fw, 3);
		} else
			sb_addn(b, p, clen);
		p += clen;
	}
}

/* One random segment of filler text. */
static void
filler(struct sbuf *b, int lang)
{
	static const char *const zpunct[] = {
		"，", "。", "！", "？", "、", " ", "…", "：",
	};
	uint32_t i, n;

	if (lang == 0) {
		n = 3 + rnd(10);
		for (i = 0; i < n; i++) {
			if (rnd(100) < 93)
				zh_common(b);
			else
				zh_any(b);
		}
		sb_add(b, zpunct[rnd(sizeof zpunct / sizeof zpunct[0])]);
	} else {
		n = 1 + rnd(5);
		for (i = 0; i < n; i++) {
			sb_add(b, en_words[rnd(sizeof en_words /
			    sizeof en_words[0])]);
			sb_add(b, rnd(12) == 0 ? ", " : " ");
		}
		if (rnd(6) == 0)
			sb_printf(b, "%u ", rnd(3000));
	}
}

static void
gen_corpus(struct corpus *c, size_t n, const struct vocab *v)
{
	struct sbuf all = { NULL, 0, 0 }, post = { NULL, 0, 0 };
	uint32_t target, kind, plant_at, nplant, seg, k;
	size_t i, kwi;
	double u;

	c->n = n;
	c->off = xcalloc(n + 1, sizeof *c->off);
	c->plat = xcalloc(n, 1);
	c->planted = c->disguised = 0;
	for (i = 0; i < n; i++) {
		post.n = 0;
		target = 20 + rnd(111);
		kind = rnd(100);	/* < 65 zh, < 85 en, else mixed */
		nplant = rnd(1000) < 110 ? 1 + (rnd(5) == 0) : 0;
		plant_at = rnd(3);
		if (nplant > 0)
			c->planted++;
		for (seg = 0;; seg++) {
			if (nplant > 0 && seg >= plant_at) {
				/* log-uniform over the master list, so
				 * small rule sets see a share too */
				u = rndf();
				kwi = (size_t)(exp(u * log((double)
				    MASTER_KWS))) - 1;
				if (kwi >= v->n)
					kwi = v->n - 1;
				if (post.n > 0 && (post.s[post.n - 1] & 0x80) ==
				    0 && post.s[post.n - 1] != ' ')
					sb_add(&post, " ");
				if (rnd(3) == 0) {
					disguise(&post, v->kw[kwi]);
					c->disguised++;
				} else
					sb_add(&post, v->kw[kwi]);
				sb_add(&post, (v->kw[kwi][0] & 0x80) ? "，" :
				    " ");
				nplant--;
			}
			if (post.n > 0 && utf8_chars(post.s) >= target)
				break;
			if (kind < 65)
				filler(&post, 0);
			else if (kind < 85)
				filler(&post, 1);
			else
				filler(&post, (int)(seg & 1));
		}
		if (rnd(200) == 0) {
			k = rnd(sizeof veto_words / sizeof veto_words[0]);
			sb_add(&post, veto_words[k]);
		}
		c->plat[i] = (uint8_t)rnd(4);
		c->off[i] = (uint32_t)all.n;
		sb_addn(&all, post.s, post.n);
	}
	c->off[n] = (uint32_t)all.n;
	c->text = all.s;
	c->len = all.n;
	free(post.s);
}

/* --- rules ------------------------------------------------------------- */

static void
yaml_kw_list(struct sbuf *y, char **kw, size_t n)
{
	size_t i;

	sb_add(y, "[");
	for (i = 0; i < n; i++)
		sb_printf(y, "%s\"%s\"", i ? ", " : "", kw[i]);
	sb_add(y, "]");
}

/*
 * nkw literal keywords from the master list, in topics of 10-50: 65% any,
 * 15% any + none, 15% all of two groups, 5% any + where.  The first any
 * topics also get the regex keywords; one more topic is regex only.
 */
static char *
gen_rules(const struct vocab *v, size_t nkw, size_t *ntopics)
{
	struct sbuf y = { NULL, 0, 0 };
	size_t i = 0, t = 0, sz, half, shared, nre = 0;
	uint32_t kind;
	char **kw;

	sb_add(&y, "topics:\n");
	while (i < nkw) {
		sz = 10 + rnd(41);
		if (sz > nkw - i)
			sz = nkw - i;
		kw = v->kw + i;
		kind = rnd(100);
		sb_printf(&y, "  - id: t%05zu\n    match:\n", t);
		if (kind < 15 && sz >= 4) {
			half = sz / 4;
			sb_add(&y, "      all: [");
			yaml_kw_list(&y, kw, half);
			sb_add(&y, ", ");
			yaml_kw_list(&y, kw + half, sz - half);
			sb_add(&y, "]\n");
		} else {
			sb_add(&y, "      any: ");
			yaml_kw_list(&y, kw, sz);
			/* some keywords are shared with an earlier topic */
			if (i > 100 && rnd(10) == 0) {
				shared = rnd((uint32_t)i);
				y.n--;	/* reopen the list */
				sb_printf(&y, ", \"%s\"]", v->kw[shared]);
			}
			if (nre < sizeof regexes / sizeof regexes[0]) {
				y.n--;
				sb_printf(&y, ", \"%s\"]", regexes[nre++]);
			}
			sb_add(&y, "\n");
			if (kind >= 15 && kind < 30)
				sb_printf(&y, "      none: [\"%s\", \"%s\"]\n",
				    veto_words[rnd(8)], veto_words[rnd(8)]);
			else if (kind >= 30 && kind < 35)
				sb_printf(&y, "      where: {platform: [%s, "
				    "%s]}\n", platforms[rnd(2)],
				    platforms[2 + rnd(2)]);
		}
		i += sz;
		t++;
	}
	sb_printf(&y, "  - id: regex-only\n    match:\n      any: [\"%s\"]\n",
	    regex_only);
	t++;
	*ntopics = t;
	return y.s;
}

/* --- timing ------------------------------------------------------------ */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
post_at(const struct corpus *c, size_t i, struct post *p,
    struct post_field *f)
{
	memset(p, 0, sizeof *p);
	p->text = c->text + c->off[i];
	p->text_len = c->off[i + 1] - c->off[i];
	f->name = "platform";
	f->value = platforms[c->plat[i]];
	f->len = strlen(f->value);
	p->fields = f;
	p->nfields = 1;
}

/* --- naive baseline ---------------------------------------------------- */

struct baseline {
	pcre2_code	**re;
	size_t		  n;
};

static void
re_escape(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (strchr("\\^$.|?*+()[]{}", *s) != NULL)
			sb_add(b, "\\");
		sb_addn(b, s, 1);
	}
}

static int
baseline_build(struct baseline *bl, const struct ruleset *rs,
    const struct normalizer *norm)
{
	struct sbuf pat = { NULL, 0, 0 };
	struct norm_buf nb = { NULL, 0, 0 };
	const struct rule_topic *t;
	const struct rule_kw *kw;
	char *u8 = NULL;
	size_t i, k, n = 0, u8len, u8cap = 0;
	PCRE2_SIZE eoff;
	int ecode;

	bl->re = xcalloc(rs->ntopics, sizeof *bl->re);
	bl->n = rs->ntopics;
	for (i = 0; i < rs->ntopics; i++) {
		t = &rs->topics[i];
		pat.n = 0;
		n = 0;
		for (k = 0; k < t->nkws; k++) {
			kw = &t->kws[k];
			if (kw->role == KW_NONE)
				continue;
			if (n++ > 0)
				sb_add(&pat, "|");
			if (kw->is_regex) {
				sb_printf(&pat, "(?%s:%s)", (kw->re_flags &
				    PCRE2_CASELESS) ? "i" : "", kw->text);
				continue;
			}
			/* the literal as the normaliser writes it */
			norm_text_full(norm, kw->text, strlen(kw->text), &nb);
			norm_utf8(&nb, &u8, &u8len, &u8cap, NULL, NULL);
			re_escape(&pat, u8);
		}
		if (n == 0)
			continue;
		bl->re[i] = pcre2_compile((PCRE2_SPTR)pat.s, pat.n,
		    PCRE2_UTF | PCRE2_UCP, &ecode, &eoff, NULL);
		if (bl->re[i] == NULL) {
			fprintf(stderr, "baseline: topic %s does not compile "
			    "(%d)\n", t->id, ecode);
			return -1;
		}
		pcre2_jit_compile(bl->re[i], PCRE2_JIT_COMPLETE);
	}
	free(pat.s);
	free(u8);
	norm_buf_free(&nb);
	return 0;
}

static void
baseline_free(struct baseline *bl)
{
	size_t i;

	for (i = 0; i < bl->n; i++)
		pcre2_code_free(bl->re[i]);
	free(bl->re);
}

/* Runs the baseline on posts [0, n); returns posts with a topic. */
static size_t
baseline_run(const struct baseline *bl, const struct normalizer *norm,
    const struct corpus *c, size_t n)
{
	struct norm_buf nb = { NULL, 0, 0 };
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	char *u8 = NULL;
	size_t i, k, u8len, u8cap = 0, matched = 0;
	bool any;

	for (i = 0; i < n; i++) {
		norm_text_full(norm, c->text + c->off[i], c->off[i + 1] -
		    c->off[i], &nb);
		norm_utf8(&nb, &u8, &u8len, &u8cap, NULL, NULL);
		any = false;
		for (k = 0; k < bl->n; k++) {
			if (bl->re[k] == NULL)
				continue;
			if (pcre2_jit_match(bl->re[k], (PCRE2_SPTR)u8, u8len,
			    0, 0, md, NULL) >= 0)
				any = true;
		}
		matched += any;
	}
	pcre2_match_data_free(md);
	free(u8);
	norm_buf_free(&nb);
	return matched;
}

/* --- Hyperscan comparison (optional) ----------------------------------- */

#ifdef BENCH_HYPERSCAN
static int
hs_count(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	(*(size_t *)ctx)++;
	return 0;
}

/*
 * The same literals, normalised and without separators, as one Hyperscan
 * literal database scanned over the UTF-8 of the post's significant
 * characters: raw literal hits only (no gap, boundary or topic logic).
 */
static void
bench_hyperscan(const struct ruleset *rs, const struct normalizer *norm,
    const struct corpus *c, size_t nposts)
{
	struct norm_buf nb = { NULL, 0, 0 };
	char **lits = NULL, *u8 = NULL;
	size_t *lens = NULL, n = 0, cap = 0, lcap = 0, i, k, u8len, u8cap = 0;
	size_t hits = 0, dbsize = 0;
	unsigned int *ids = NULL, *flags = NULL;
	hs_database_t *db = NULL;
	hs_scratch_t *scratch = NULL;
	hs_compile_error_t *err = NULL;
	double t0, t1, tc;

	for (i = 0; i < rs->ntopics; i++)
		for (k = 0; k < rs->topics[i].nkws; k++) {
			const struct rule_kw *kw = &rs->topics[i].kws[k];

			if (kw->is_regex)
				continue;
			norm_text(norm, kw->text, strlen(kw->text), &nb);
			if (nb.n == 0)
				continue;
			norm_utf8(&nb, &u8, &u8len, &u8cap, NULL, NULL);
			lits = xgrow(lits, &cap, n + 1, sizeof *lits);
			lens = xgrow(lens, &lcap, n + 1, sizeof *lens);
			lits[n] = xstrndup(u8, u8len);
			lens[n++] = u8len;
		}
	ids = xcalloc(n, sizeof *ids);
	flags = xcalloc(n, sizeof *flags);
	for (i = 0; i < n; i++)
		ids[i] = (unsigned int)i;
	t0 = now();
	if (hs_compile_lit_multi((const char *const *)lits, flags, ids, lens,
	    (unsigned int)n, HS_MODE_BLOCK, NULL, &db, &err) != HS_SUCCESS) {
		printf("  hyperscan: compile failed: %s\n", err->message);
		hs_free_compile_error(err);
		goto out;
	}
	tc = now() - t0;
	hs_alloc_scratch(db, &scratch);
	hs_database_size(db, &dbsize);
	t0 = now();
	for (i = 0; i < nposts; i++) {
		norm_text(norm, c->text + c->off[i], c->off[i + 1] - c->off[i],
		    &nb);
		norm_utf8(&nb, &u8, &u8len, &u8cap, NULL, NULL);
		hs_scan(db, u8, (unsigned int)u8len, 0, scratch, hs_count,
		    &hits);
	}
	t1 = now() - t0;
	printf("  hyperscan (normalise + raw literal scan, no topic logic): "
	    "%.0f posts/s, db %.1f MB, compile %.2f s, %zu raw hits\n",
	    (double)nposts / t1, (double)dbsize / 1048576.0, tc, hits);
out:
	hs_free_scratch(scratch);
	hs_free_database(db);
	for (i = 0; i < n; i++)
		free(lits[i]);
	free(lits);
	free(lens);
	free(ids);
	free(flags);
	free(u8);
	norm_buf_free(&nb);
}
#endif

/* --- files for the end-to-end benchmark ------------------------------- */

static void
json_str(FILE *fp, const char *s, size_t n)
{
	size_t i;

	putc('"', fp);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(fp, "\\u%04x", ch);
		else
			putc(ch, fp);
	}
	putc('"', fp);
}

/*
 * The corpus as JSON lines shaped like a platform's export: id, text,
 * time (epoch seconds, spread evenly over [start, start + span)), platform,
 * region and a user; about 300 bytes a post on average.
 */
static void
write_posts(FILE *fp, const struct corpus *c, int64_t start, int64_t span)
{
	static const char *const regions[] = {
		"广东", "北京", "上海", "四川", "浙江", "湖北", "江苏", "山东",
	};
	size_t i;

	for (i = 0; i < c->n; i++) {
		fprintf(fp, "{\"id\":\"%zu\",\"text\":", 4000000000u + i);
		json_str(fp, c->text + c->off[i], c->off[i + 1] - c->off[i]);
		fprintf(fp, ",\"time\":%" PRId64 ",\"platform\":\"%s\","
		    "\"region\":\"%s\",\"user\":{\"id\":\"u%07u\"}}\n",
		    start + (int64_t)((double)i * (double)span / (double)c->n),
		    platforms[c->plat[i]],
		    regions[rnd(sizeof regions / sizeof regions[0])],
		    rnd(5000000));
	}
}

static int
emit_posts(const char *path, const struct corpus *c, int64_t start,
    int64_t span)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");

	if (fp == NULL) {
		perror(path);
		return -1;
	}
	write_posts(fp, c, start, span);
	if (fp != stdout ? fclose(fp) != 0 : fflush(fp) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

static int
emit_rules(const char *path, const struct vocab *v, size_t nkw)
{
	FILE *fp = fopen(path, "w");
	size_t ntopics;
	char *yaml;

	if (fp == NULL) {
		perror(path);
		return -1;
	}
	rng_state = 1000003u * nkw;	/* as in the benchmark proper */
	yaml = gen_rules(v, nkw, &ntopics);
	fputs(yaml, fp);
	free(yaml);
	if (fclose(fp) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

/*
 * Decoding: the corpus as the end-to-end benchmark's JSON lines (~300
 * bytes), decoded with the daemon's field mapping by the fast path (one
 * validating scan) and by the full path (UTF-8 check and cJSON's tree,
 * full_parse), in alternate passes; and, as a library baseline, what a
 * jsmn-based decoder would do at the least: the UTF-8 check and jsmn's
 * tokens (strict, parent links), without the grammar check jsmn needs
 * (it lets malformed text through) and without reading any member.
 */
static void
bench_decode(const struct corpus *c, size_t passes, double *times)
{
	static const char *const names[] = { "platform", "region", "user" };
	static const char *const paths[] = { "platform", "region", "user.id" };
	double *full = xcalloc(passes, sizeof *full), t0, mb;
	double *tok = xcalloc(passes, sizeof *tok);
	jsmntok_t toks[256];
	jsmn_parser jp;
	struct decoder_opts o;
	struct decoder *d[2];
	struct post post;
	char *buf = NULL, *p, *nl;
	size_t len = 0, n, bad = 0, p_i;
	FILE *fp = open_memstream(&buf, &len);
	int k;

	if (fp == NULL) {
		perror("open_memstream");
		exit(1);
	}
	write_posts(fp, c, 1795680000, 3600);
	fclose(fp);
	memset(&o, 0, sizeof o);
	o.format = DEC_FORMAT_JSON;
	o.id_field = "id";
	o.text_field = "text";
	o.time_field = "time";
	o.fields = names;
	o.field_paths = paths;
	o.nfields = 3;
	for (k = 0; k < 2; k++) {
		o.full_parse = k;
		d[k] = decoder_new(&o);
	}
	for (p_i = 0; p_i < passes; p_i++)
		for (k = 0; k < 2; k++) {
			t0 = now();
			for (p = buf, n = 0; p < buf + len; p = nl + 1, n++) {
				nl = memchr(p, '\n', (size_t)(buf + len - p));
				if (decoder_decode(d[k], p, (size_t)(nl - p), &post,
				    NULL, 0) != DEC_OK)
					bad++;
			}
			(k ? full : times)[p_i] = now() - t0;
		}
	for (p_i = 0; p_i < passes; p_i++) {
		t0 = now();
		for (p = buf; p < buf + len; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(buf + len - p));
			jsmn_init(&jp);
			if (!utf8_valid(p, (size_t)(nl - p)) || jsmn_parse(&jp, p,
			    (size_t)(nl - p), toks, 256) < 1)
				bad++;
		}
		tok[p_i] = now() - t0;
	}
	qsort(times, passes, sizeof *times, dbl_cmp);
	qsort(full, passes, sizeof *full, dbl_cmp);
	qsort(tok, passes, sizeof *tok, dbl_cmp);
	mb = (double)len / 1e6;
	printf("decode (JSON line -> post, %zu bytes on average): fast path "
	    "%.0f posts/s (%.0f MB/s); cJSON tree %.0f posts/s (%.0f MB/s), "
	    "%.2fx slower; jsmn tokens alone %.0f posts/s (%.0f MB/s), "
	    "%.2fx slower%s\n", len / c->n,
	    (double)c->n / times[passes / 2], mb / times[passes / 2],
	    (double)c->n / full[passes / 2], mb / full[passes / 2],
	    full[passes / 2] / times[passes / 2],
	    (double)c->n / tok[passes / 2], mb / tok[passes / 2],
	    tok[passes / 2] / times[passes / 2],
	    bad ? " (SOME POSTS DID NOT DECODE)" : "");
	for (k = 0; k < 2; k++)
		decoder_free(d[k]);
	free(full);
	free(tok);
	free(buf);
}

/* --- main -------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr, "usage: bench_match [--posts N] [--passes P] "
	    "[--sizes K,K,...] [--baseline-secs S] [--thuocl [DIR]]\n"
	    "       bench_match [--emit-rules K FILE] [--emit-posts N FILE "
	    "[--time START SPAN]]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const size_t default_sizes[] = { 100, 1000, 10000, 50000 };
	size_t sizes[16], nsizes = 4, nposts = 1000000, passes = 3, i, k, p;
	size_t ntopics, blposts, blmatched, mmatched, sub_matched, nlex = 0;
	double bl_secs = 4.0, t0, t1, tload, tcomp, *times, med, rate, mbps;
	double blrate, ratio;
	const char *thuocl = NULL, *rules_out = NULL, *posts_out = NULL;
	size_t emit_kw = 0, emit_n = 0;
	int64_t emit_start = (int64_t)time(NULL) - 60, emit_span = 60;
	struct norm_opts o;
	struct normalizer *norm;
	struct vocab v;
	struct corpus c;
	struct ruleset *rs;
	struct diag errs;
	struct matcher *m;
	struct match_ctx *ctx;
	struct match_result res;
	struct match_stats st;
	struct post post;
	struct post_field field;
	struct baseline bl;
	char err[512], *yaml, *end, **lex = NULL;

	memcpy(sizes, default_sizes, sizeof default_sizes);
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--posts") == 0 && i + 1 < (size_t)argc)
			nposts = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--passes") == 0 &&
		    i + 1 < (size_t)argc)
			passes = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--baseline-secs") == 0 &&
		    i + 1 < (size_t)argc)
			bl_secs = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--sizes") == 0 &&
		    i + 1 < (size_t)argc) {
			const char *s = argv[++i];

			for (nsizes = 0; *s != '\0' && nsizes < 16;) {
				sizes[nsizes] = strtoul(s, &end, 10);
				if (end == s || sizes[nsizes] == 0 ||
				    sizes[nsizes] > MASTER_KWS)
					usage();
				nsizes++;
				s = *end == ',' ? end + 1 : end;
			}
		} else if (strcmp(argv[i], "--emit-rules") == 0 &&
		    i + 2 < (size_t)argc) {
			emit_kw = strtoul(argv[++i], NULL, 10);
			rules_out = argv[++i];
			if (emit_kw == 0 || emit_kw > MASTER_KWS)
				usage();
		} else if (strcmp(argv[i], "--emit-posts") == 0 &&
		    i + 2 < (size_t)argc) {
			emit_n = strtoul(argv[++i], NULL, 10);
			posts_out = argv[++i];
			if (emit_n == 0)
				usage();
		} else if (strcmp(argv[i], "--time") == 0 &&
		    i + 2 < (size_t)argc) {
			emit_start = strtoll(argv[++i], NULL, 10);
			emit_span = strtoll(argv[++i], NULL, 10);
			if (emit_span < 1)
				usage();
		} else if (strcmp(argv[i], "--thuocl") == 0) {
			thuocl = THUOCL_DIR;
			if (i + 1 < (size_t)argc && argv[i + 1][0] != '-')
				thuocl = argv[++i];
		} else
			usage();
	}
	if (nposts == 0 || passes == 0)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);

	norm_opts_default(&o);
	if ((norm = norm_new(&o, err, sizeof err)) == NULL) {
		fprintf(stderr, "norm_new: %s\n", err);
		return 1;
	}
	rng_state = 20261126;
	zh_init();
	if (thuocl != NULL) {
		lex = load_thuocl(thuocl, &nlex);
		if (lex == NULL)
			printf("thuocl: %s not found, using generated words\n",
			    thuocl);
		else
			printf("thuocl: %zu Chinese words from %s\n", nlex,
			    thuocl);
	}
	t0 = now();
	gen_vocab(&v, lex, nlex);
	if (rules_out != NULL || posts_out != NULL) {
		int rc = 0;

		if (posts_out != NULL) {
			gen_corpus(&c, emit_n, &v);
			rc |= emit_posts(posts_out, &c, emit_start, emit_span);
		}
		if (rules_out != NULL)
			rc |= emit_rules(rules_out, &v, emit_kw);
		return rc ? 1 : 0;
	}
	gen_corpus(&c, nposts, &v);
	printf("corpus: %zu posts, %.1f MB, %.1f%% with a planted keyword "
	    "(%zu disguised), generated in %.1f s\n", c.n,
	    (double)c.len / 1e6, 100.0 * (double)c.planted / (double)c.n,
	    c.disguised, now() - t0);
	printf("one core; times are the median of %zu passes over every "
	    "post; MB = 2^20 bytes for memory, 10^6 bytes/s for MB/s\n",
	    passes);
	times = xcalloc(passes, sizeof *times);
	for (p = 0; p < passes; p++) {
		struct norm_buf nb = { NULL, 0, 0 };

		t0 = now();
		for (i = 0; i < c.n; i++)
			norm_text(norm, c.text + c.off[i], c.off[i + 1] -
			    c.off[i], &nb);
		times[p] = now() - t0;
		norm_buf_free(&nb);
	}
	qsort(times, passes, sizeof *times, dbl_cmp);
	printf("normalise only (norm_text): %.0f posts/s, %.1f MB/s\n",
	    (double)c.n / times[passes / 2],
	    (double)c.len / times[passes / 2] / 1e6);
	bench_decode(&c, passes, times);

	for (k = 0; k < nsizes; k++) {
		/* Rules depend on the size only, not on the corpus. */
		rng_state = 1000003u * sizes[k];
		yaml = gen_rules(&v, sizes[k], &ntopics);
		diag_init(&errs);
		t0 = now();
		if (rules_load_string("bench.yaml", yaml, strlen(yaml), &rs,
		    &errs) == -1) {
			for (i = 0; i < errs.n && i < 10; i++)
				fprintf(stderr, "%s\n", errs.msgs[i]);
			return 1;
		}
		tload = now() - t0;
		diag_free(&errs);
		free(yaml);
		t0 = now();
		m = match_compile(rs, norm, NULL, err, sizeof err);
		tcomp = now() - t0;
		if (m == NULL) {
			fprintf(stderr, "match_compile: %s\n", err);
			return 1;
		}
		match_get_stats(m, &st);
		ctx = match_ctx_new(m);
		printf("\n== %zu keywords: %zu topics (+%zu regexes), %zu "
		    "distinct literals, %zu states\n", sizes[k], ntopics,
		    st.regexes, st.literals, st.states);
		printf("  rules_load_string %.2f s, match_compile %.3f s, "
		    "matcher %.1f MB\n", tload, tcomp,
		    (double)st.bytes / 1048576.0);

		mmatched = 0;
		for (p = 0; p < passes; p++) {
			size_t matched = 0;

			t0 = now();
			for (i = 0; i < c.n; i++) {
				post_at(&c, i, &post, &field);
				match_post(ctx, &post, &res);
				matched += res.ntopics > 0;
			}
			times[p] = now() - t0;
			mmatched = matched;
		}
		qsort(times, passes, sizeof *times, dbl_cmp);
		med = times[passes / 2];
		rate = (double)c.n / med;
		mbps = (double)c.len / med / 1e6;
		printf("  normalise+match: %.0f posts/s, %.1f MB/s (%.3f s "
		    "per pass), %.1f%% of posts match a topic\n", rate, mbps,
		    med, 100.0 * (double)mmatched / (double)c.n);

		/*
		 * Baseline on the first posts: calibrate on 500, then run as
		 * many as fit in about bl_secs (all posts if they fit).
		 */
		baseline_build(&bl, rs, norm);
		blposts = c.n < 500 ? c.n : 500;
		t0 = now();
		baseline_run(&bl, norm, &c, blposts);
		t1 = now() - t0;
		blposts = (size_t)(500.0 * bl_secs / (t1 > 1e-6 ? t1 : 1e-6));
		if (blposts > c.n)
			blposts = c.n;
		if (blposts < 500)
			blposts = c.n < 500 ? c.n : 500;
		t0 = now();
		blmatched = baseline_run(&bl, norm, &c, blposts);
		t1 = now() - t0;
		blrate = (double)blposts / t1;
		sub_matched = 0;
		for (i = 0; i < blposts; i++) {
			post_at(&c, i, &post, &field);
			match_post(ctx, &post, &res);
			sub_matched += res.ntopics > 0;
		}
		ratio = rate / blrate;
		printf("  naive baseline (PCRE2 JIT alternation per topic, "
		    "topic by topic): %.0f posts/s on %s%zu posts%s; posts "
		    "matched there: baseline %.1f%%, matcher %.1f%%\n", blrate,
		    blposts < c.n ? "the first " : "all ", blposts,
		    blposts < c.n ? " (rate extrapolated)" : "",
		    100.0 * (double)blmatched / (double)blposts,
		    100.0 * (double)sub_matched / (double)blposts);
		baseline_free(&bl);
#ifdef BENCH_HYPERSCAN
		bench_hyperscan(rs, norm, &c, c.n);
#endif
		printf("bench-match keywords=%zu posts_per_s=%.0f mb_per_s=%.1f "
		    "baseline_posts_per_s=%.0f ratio=%.1f matcher_mb=%.1f\n",
		    sizes[k], rate, mbps, blrate, ratio,
		    (double)st.bytes / 1048576.0);
		match_ctx_free(ctx);
		match_free(m);
		rules_unref(rs);
	}

	free(times);
	for (i = 0; i < v.n; i++)
		free(v.kw[i]);
	free(v.kw);
	for (i = 0; i < nlex; i++)
		free(lex[i]);
	free(lex);
	free(c.text);
	free(c.off);
	free(c.plat);
	norm_free(norm);
	return 0;
}
