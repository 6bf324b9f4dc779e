/*
 * variants_table.h — the data of variants.c, generated from OpenCC 1.1.6's
 * s2hk.json and s2tw.json by tests/eval/variant-pairs.sh (the comments on
 * the pairs are written by hand).  Included by variants.c only, which
 * defines VIA_HK and VIA_TW first.
 */
#ifndef TW_VARIANTS_TABLE_H
#define TW_VARIANTS_TABLE_H

/*
 * (folded keyword character, folded variant character) pairs that make a
 * variant, sorted by the first, and the configuration that yields them:
 * the second character is outside GB 2312 and stays itself when folded.
 */
static const struct variant_pair {
	uint32_t	from;
	uint32_t	to;
	unsigned	via;
} variant_pairs[] = {
	{ 0x4e86, 0x77ad, VIA_HK },	/* 了 瞭: 一目瞭然, 瞭解 */
	{ 0x536b, 0x885e, VIA_HK },	/* 卫 衞: 衞生 (Hong Kong) */
	{ 0x53d9, 0x654d, VIA_HK },	/* 叙 敍 (Hong Kong) */
	{ 0x53f0, 0x67b1, VIA_HK },	/* 台 枱: 櫃枱 (Hong Kong) */
	{ 0x5423, 0x551a, VIA_HK },	/* 吣 唚: 胡唚 */
	{ 0x5468, 0x8d52, VIA_HK },	/* 周 赒: 賙濟 */
	{ 0x592b, 0x4f15, VIA_HK },	/* 夫 伕: 伙伕 */
	{ 0x5e76, 0x5e77, VIA_HK },	/* 并 幷: 兼容幷蓄 */
	{ 0x621a, 0x2cb6d, VIA_HK },	/* 戚 𬭭: 干𬭭 */
	{ 0x62b5, 0x7274, VIA_HK },	/* 抵 牴: 牴觸 */
	{ 0x6635, 0x66b1, VIA_HK },	/* 昵 暱 */
	{ 0x6a90, 0x7c37, VIA_TW },	/* 檐 簷 (Taiwan) */
	{ 0x6f68, 0x6f40, VIA_HK },	/* 潨 潀 */
	{ 0x75f9, 0x75fa, VIA_TW },	/* 痹 痺: 麻痺 (Taiwan) */
	{ 0x777e, 0x776a, VIA_TW },	/* 睾 睪 (Taiwan) */
	{ 0x7a06, 0x7a5e, VIA_HK },	/* 稆 穞 */
	{ 0x7a57, 0x30b38, VIA_HK },	/* 穗 𰬸 */
	{ 0x7e06, 0x7dea, VIA_HK },	/* 縆 緪 */
	{ 0x80cc, 0x63f9, VIA_HK },	/* 背 揹: 揹包 */
};

/*
 * The dictionary keys whose conversion makes one of the pairs (its
 * triggers), sorted by anchor: the character of the key that becomes the
 * pair's second (at byte offset off in the key).  A keyword that holds
 * none of the keys cannot get a variant, and is not sent through OpenCC.
 */
static const struct variant_trigger {
	uint32_t	 anchor;
	uint32_t	 off;
	const char	*key;
	unsigned	 via;
} variant_triggers[] = {
	{ 0x4e86, 6, "一目了然", VIA_HK },
	{ 0x4e86, 3, "不了解", VIA_HK },
	{ 0x4e86, 0, "了如", VIA_HK },
	{ 0x4e86, 0, "了如指掌", VIA_HK },
	{ 0x4e86, 0, "了望", VIA_HK },
	{ 0x4e86, 0, "了望台", VIA_HK },
	{ 0x4e86, 0, "了望塔", VIA_HK },
	{ 0x4e86, 0, "了望山", VIA_HK },
	{ 0x4e86, 0, "了望所", VIA_HK },
	{ 0x4e86, 0, "了然", VIA_HK },
	{ 0x4e86, 0, "了然不惑", VIA_HK },
	{ 0x4e86, 0, "了然于心", VIA_HK },
	{ 0x4e86, 0, "了若指掌", VIA_HK },
	{ 0x4e86, 0, "了解", VIA_HK },
	{ 0x4e86, 0, "了解到", VIA_HK },
	{ 0x4e86, 3, "据了解", VIA_HK },
	{ 0x4e86, 3, "明了", VIA_HK },
	{ 0x4e86, 6, "眼花了乱", VIA_HK },
	{ 0x4e86, 9, "简单明了", VIA_HK },
	{ 0x4e86, 6, "踅门了户", VIA_HK },
	{ 0x536b, 6, "个人卫生", VIA_HK },
	{ 0x536b, 6, "全球卫星导航系统", VIA_HK },
	{ 0x536b, 18, "全球定位系统卫星测量", VIA_HK },
	{ 0x536b, 0, "卫", VIA_HK },
	{ 0x536b, 0, "卫教系", VIA_HK },
	{ 0x536b, 0, "卫星云图", VIA_HK },
	{ 0x536b, 0, "卫星定位系统", VIA_HK },
	{ 0x536b, 0, "卫星导航系统", VIA_HK },
	{ 0x536b, 0, "卫星钟", VIA_HK },
	{ 0x536b, 0, "卫生标准", VIA_HK },
	{ 0x536b, 0, "卫生系", VIA_HK },
	{ 0x536b, 3, "厂卫", VIA_HK },
	{ 0x536b, 6, "右后卫", VIA_HK },
	{ 0x536b, 6, "同步卫星", VIA_HK },
	{ 0x536b, 3, "后卫", VIA_HK },
	{ 0x536b, 3, "周卫", VIA_HK },
	{ 0x536b, 6, "工厂卫生", VIA_HK },
	{ 0x536b, 9, "携带式卫星通信系统", VIA_HK },
	{ 0x536b, 15, "普列谢茨克卫星发射场", VIA_HK },
	{ 0x536b, 9, "正当防卫", VIA_HK },
	{ 0x536b, 9, "正当防卫行为", VIA_HK },
	{ 0x536b, 9, "过当防卫", VIA_HK },
	{ 0x536b, 3, "郑卫之曲", VIA_HK },
	{ 0x536b, 3, "防卫过当", VIA_HK },
	{ 0x53d9, 0, "叙", VIA_HK },
	{ 0x53d9, 0, "叙事曲", VIA_HK },
	{ 0x53d9, 0, "叙别", VIA_HK },
	{ 0x53d9, 0, "叙录", VIA_HK },
	{ 0x53d9, 0, "叙述出来", VIA_HK },
	{ 0x53d9, 6, "综合叙述", VIA_HK },
	{ 0x53d9, 3, "面叙", VIA_HK },
	{ 0x53f0, 9, "上不了台面", VIA_HK },
	{ 0x53f0, 9, "上不得台盘", VIA_HK },
	{ 0x53f0, 6, "不上台盘", VIA_HK },
	{ 0x53f0, 6, "不得台盘", VIA_HK },
	{ 0x53f0, 9, "中转柜台", VIA_HK },
	{ 0x53f0, 9, "乒乓球台", VIA_HK },
	{ 0x53f0, 3, "书台", VIA_HK },
	{ 0x53f0, 6, "写字台", VIA_HK },
	{ 0x53f0, 6, "办公台", VIA_HK },
	{ 0x53f0, 0, "台凳", VIA_HK },
	{ 0x53f0, 0, "台历", VIA_HK },
	{ 0x53f0, 0, "台布", VIA_HK },
	{ 0x53f0, 0, "台布下", VIA_HK },
	{ 0x53f0, 0, "台扇", VIA_HK },
	{ 0x53f0, 0, "台灯", VIA_HK },
	{ 0x53f0, 0, "台球", VIA_HK },
	{ 0x53f0, 0, "台球桌", VIA_HK },
	{ 0x53f0, 0, "台盘", VIA_HK },
	{ 0x53f0, 0, "台秤", VIA_HK },
	{ 0x53f0, 0, "台笔", VIA_HK },
	{ 0x53f0, 0, "台钟", VIA_HK },
	{ 0x53f0, 0, "台面", VIA_HK },
	{ 0x53f0, 0, "台面上", VIA_HK },
	{ 0x53f0, 0, "台面前", VIA_HK },
	{ 0x53f0, 3, "吧台", VIA_HK },
	{ 0x53f0, 6, "圣餐台", VIA_HK },
	{ 0x53f0, 3, "坐台", VIA_HK },
	{ 0x53f0, 3, "坐台子", VIA_HK },
	{ 0x53f0, 3, "坐台小姐", VIA_HK },
	{ 0x53f0, 6, "弹子台", VIA_HK },
	{ 0x53f0, 6, "弹珠台", VIA_HK },
	{ 0x53f0, 3, "总台", VIA_HK },
	{ 0x53f0, 6, "手工台", VIA_HK },
	{ 0x53f0, 6, "手术台", VIA_HK },
	{ 0x53f0, 3, "折台", VIA_HK },
	{ 0x53f0, 3, "拍台拍凳", VIA_HK },
	{ 0x53f0, 3, "捶台拍凳", VIA_HK },
	{ 0x53f0, 6, "控制台", VIA_HK },
	{ 0x53f0, 3, "揩台抹凳", VIA_HK },
	{ 0x53f0, 6, "撞球台", VIA_HK },
	{ 0x53f0, 6, "操作台", VIA_HK },
	{ 0x53f0, 6, "操纵台", VIA_HK },
	{ 0x53f0, 6, "服务台", VIA_HK },
	{ 0x53f0, 3, "柜台", VIA_HK },
	{ 0x53f0, 3, "柜台委讬", VIA_HK },
	{ 0x53f0, 6, "査询台", VIA_HK },
	{ 0x53f0, 6, "梳妆台", VIA_HK },
	{ 0x53f0, 6, "洗手台", VIA_HK },
	{ 0x53f0, 6, "洗脸台", VIA_HK },
	{ 0x53f0, 6, "涂浆台", VIA_HK },
	{ 0x53f0, 3, "清台", VIA_HK },
	{ 0x53f0, 9, "游戏机台", VIA_HK },
	{ 0x53f0, 3, "球台", VIA_HK },
	{ 0x53f0, 6, "电脑台", VIA_HK },
	{ 0x53f0, 15, "登机手续柜台", VIA_HK },
	{ 0x53f0, 6, "站柜台", VIA_HK },
	{ 0x53f0, 6, "终端台", VIA_HK },
	{ 0x53f0, 6, "绝缘台", VIA_HK },
	{ 0x53f0, 3, "翻台", VIA_HK },
	{ 0x53f0, 6, "试验台", VIA_HK },
	{ 0x53f0, 3, "赌台", VIA_HK },
	{ 0x53f0, 3, "跑台子", VIA_HK },
	{ 0x53f0, 3, "转台", VIA_HK },
	{ 0x53f0, 6, "配膳台", VIA_HK },
	{ 0x53f0, 3, "领台", VIA_HK },
	{ 0x53f0, 3, "餐台", VIA_HK },
	{ 0x5423, 3, "胡吣", VIA_HK },
	{ 0x5468, 0, "周人之急", VIA_HK },
	{ 0x5468, 0, "周济", VIA_HK },
	{ 0x592b, 3, "仆夫", VIA_HK },
	{ 0x592b, 3, "伙夫", VIA_HK },
	{ 0x592b, 0, "夫力", VIA_HK },
	{ 0x592b, 0, "夫役", VIA_HK },
	{ 0x592b, 3, "脚夫", VIA_HK },
	{ 0x592b, 3, "船夫", VIA_HK },
	{ 0x592b, 3, "车夫", VIA_HK },
	{ 0x592b, 6, "车马夫", VIA_HK },
	{ 0x592b, 3, "轿夫", VIA_HK },
	{ 0x592b, 6, "送报夫", VIA_HK },
	{ 0x592b, 3, "马夫", VIA_HK },
	{ 0x592b, 6, "马车夫", VIA_HK },
	{ 0x5e76, 6, "兼容并包", VIA_HK },
	{ 0x5e76, 6, "兼容并蓄", VIA_HK },
	{ 0x5e76, 6, "兼收并蓄", VIA_HK },
	{ 0x5e76, 6, "兼筹并顾", VIA_HK },
	{ 0x5e76, 0, "并包", VIA_HK },
	{ 0x5e76, 0, "并州", VIA_HK },
	{ 0x5e76, 0, "并州剪", VIA_HK },
	{ 0x5e76, 0, "并州故乡", VIA_HK },
	{ 0x621a, 3, "干戚", VIA_HK },
	{ 0x621a, 9, "朱干玉戚", VIA_HK },
	{ 0x621a, 9, "炊臼之戚", VIA_HK },
	{ 0x62b5, 0, "抵牾", VIA_HK },
	{ 0x62b5, 0, "抵触", VIA_HK },
	{ 0x6558, 0, "敘", VIA_HK },
	{ 0x6635, 0, "昵", VIA_HK },
	{ 0x6a90, 3, "封檐板", VIA_TW },
	{ 0x6a90, 0, "檐", VIA_TW },
	{ 0x6a90, 3, "耳檐儿当不的胡帽", VIA_TW },
	{ 0x6aaf, 0, "檯", VIA_HK },
	{ 0x6f68, 0, "潨", VIA_HK },
	{ 0x75f9, 9, "小儿麻痹症", VIA_TW },
	{ 0x75f9, 9, "心脏痲痹", VIA_TW },
	{ 0x75f9, 9, "心脏麻痹", VIA_TW },
	{ 0x75f9, 3, "痲痹不了", VIA_TW },
	{ 0x75f9, 0, "痹", VIA_TW },
	{ 0x75f9, 3, "麻痹不了", VIA_TW },
	{ 0x777e, 0, "睾", VIA_TW },
	{ 0x7a06, 0, "稆", VIA_HK },
	{ 0x7a57, 0, "穗帏飘井干", VIA_HK },
	{ 0x7a57, 0, "穗帐", VIA_HK },
	{ 0x7a57, 0, "穗帷", VIA_HK },
	{ 0x7a57, 0, "穗裳", VIA_HK },
	{ 0x7e06, 0, "縆", VIA_HK },
	{ 0x80cc, 0, "背人", VIA_HK },
	{ 0x80cc, 0, "背他", VIA_HK },
	{ 0x80cc, 0, "背你", VIA_HK },
	{ 0x80cc, 0, "背來", VIA_HK },
	{ 0x80cc, 0, "背债", VIA_HK },
	{ 0x80cc, 0, "背出去", VIA_HK },
	{ 0x80cc, 0, "背包", VIA_HK },
	{ 0x80cc, 0, "背包袱", VIA_HK },
	{ 0x80cc, 0, "背回", VIA_HK },
	{ 0x80cc, 0, "背回家去", VIA_HK },
	{ 0x80cc, 0, "背她", VIA_HK },
	{ 0x80cc, 0, "背小孩", VIA_HK },
	{ 0x80cc, 0, "背带", VIA_HK },
	{ 0x80cc, 0, "背我", VIA_HK },
	{ 0x80cc, 0, "背榜", VIA_HK },
	{ 0x80cc, 0, "背物", VIA_HK },
	{ 0x80cc, 0, "背着", VIA_HK },
	{ 0x80cc, 0, "背筐", VIA_HK },
	{ 0x80cc, 0, "背篓", VIA_HK },
	{ 0x80cc, 0, "背负", VIA_HK },
	{ 0x80cc, 0, "背走", VIA_HK },
	{ 0x80cc, 0, "背饥荒", VIA_HK },
	{ 0x80cc, 6, "被人背", VIA_HK },
	{ 0x885b, 0, "衛", VIA_HK },
};

#endif
