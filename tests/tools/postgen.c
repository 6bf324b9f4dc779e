/*
 * postgen.c — generates realistic post streams as JSON lines, for the
 * integration tests, the demo and the benchmarks.
 *
 *   postgen [-n POSTS] [-s START] [-d SECONDS] [-r SEED] [-m MATCH_PCT]
 *           [-b TEXT@OFFSET+LEN*COUNT]... [-p PAD_BYTES]
 *
 * POSTS background posts are spread evenly over [START, START+SECONDS)
 * (START in epoch seconds; default now minus SECONDS; "now" and "now-600"
 * work too); MATCH_PCT percent of them (default 8) talk about one of the
 * example rules' topics, the rest is everyday chatter.  Each -b adds a
 * burst: COUNT posts built around TEXT spread over
 * [START+OFFSET, START+OFFSET+LEN).  Output is sorted by time.  Every post
 * has id, text, time (epoch seconds), platform and region.  Deterministic
 * for a given seed.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const chatter[] = {
	"今天天气不错，出去走走", "周末去哪里玩比较好", "新出的手机真好看",
	"终于下班了，累了一天", "这家店的奶茶很好喝", "推荐一部好看的电视剧",
	"早上好，大家吃早饭了吗", "明天要考试了好紧张", "猫咪今天又拆家了",
	"地铁上人好多", "Just finished a great book", "Coffee first, then work",
	"看了一场精彩的球赛", "这个周末准备去爬山", "新年计划开始执行",
	"公司楼下新开了一家面馆", "孩子今天第一次上幼儿园", "有人一起打游戏吗",
	"Traffic is light today", "学做了红烧肉，味道还行", "下雨了记得带伞",
	"健身第三十天打卡", "旅游攻略求推荐", "晚饭吃什么好呢",
};

static const char *const topical[] = {
	"学校食堂发生食物中毒，多名学生送医", "某地查处地沟油窝点",
	"网曝超市销售过期食品", "四川发生4.2级地震，震感明显",
	"广州暴雨，多处道路积水严重", "台风登陆，沿海地区停课",
	"小区发生火灾，消防员紧急救援", "高速公路发生连环车祸",
	"医院排队三小时看不上病", "某品牌汽车宣布召回", "流感疫情进入高发期",
	"Earthquake felt across the city this morning",
};

static const char *const platforms[] = { "weibo", "douyin", "wechat", "twitter" };
static const char *const regions[] = { "广东", "北京", "上海", "四川", "浙江", "湖北" };

struct burst {
	const char	*text;
	int64_t		 offset, len, count;
};

static uint64_t rng;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

struct post {
	int64_t		 t;
	const char	*text;
	const char	*suffix;
	uint32_t	 seq;
};

static int
cmp(const void *a, const void *b)
{
	const struct post *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
json_raw(const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
}

static int64_t
parse_start(const char *s, int64_t now)
{
	if (strncmp(s, "now", 3) == 0)
		return now + (s[3] ? strtoll(s + 3, NULL, 10) : 0);
	return strtoll(s, NULL, 10);
}

int
main(int argc, char **argv)
{
	static const char *const tails[] = { "", "！", "。。。", " 转发扩散",
	    "，大家注意", "#关注#", " 怎么回事", "？" };
	int64_t n = 1000, dur = 600, start = INT64_MIN, now = time(NULL), i, k;
	int mpct = 8, pad = 0, c;
	struct burst bursts[16];
	size_t nb = 0, np = 0, total;
	struct post *posts;

	rng = 0x9e3779b97f4a7c15ULL;
	while ((c = getopt(argc, argv, "n:s:d:r:m:b:p:")) != -1) {
		switch (c) {
		case 'n': n = strtoll(optarg, NULL, 10); break;
		case 's': start = parse_start(optarg, now); break;
		case 'd': dur = strtoll(optarg, NULL, 10); break;
		case 'r': rng ^= strtoull(optarg, NULL, 10) * 0x2545F4914F6CDD1DULL; break;
		case 'm': mpct = atoi(optarg); break;
		case 'p': pad = atoi(optarg); break;
		case 'b': {
			char *at = strrchr(optarg, '@');

			if (at == NULL || nb == 16 || sscanf(at + 1, "%" SCNd64
			    "+%" SCNd64 "*%" SCNd64, &bursts[nb].offset,
			    &bursts[nb].len, &bursts[nb].count) != 3) {
				fprintf(stderr, "postgen: -b TEXT@OFFSET+LEN*COUNT\n");
				return 2;
			}
			*at = '\0';
			bursts[nb++].text = optarg;
			break;
		}
		default:
			fprintf(stderr, "usage: postgen [-n N] [-s START] [-d SECS] "
			    "[-r SEED] [-m PCT] [-b TEXT@OFF+LEN*COUNT] [-p PAD]\n");
			return 2;
		}
	}
	if (rng == 0)
		rng = 1;
	if (start == INT64_MIN)
		start = now - dur;
	if (dur < 1)
		dur = 1;
	total = (size_t)n;
	for (k = 0; k < (int64_t)nb; k++)
		total += (size_t)bursts[k].count;
	posts = calloc(total + 1, sizeof *posts);
	for (i = 0; i < n; i++) {
		struct post *p = &posts[np++];

		p->t = start + i * dur / (n > 0 ? n : 1);
		if ((int)(rnd() % 100) < mpct)
			p->text = topical[rnd() % (sizeof topical / sizeof topical[0])];
		else
			p->text = chatter[rnd() % (sizeof chatter / sizeof chatter[0])];
		p->suffix = tails[rnd() % (sizeof tails / sizeof tails[0])];
		p->seq = (uint32_t)np;
	}
	for (k = 0; k < (int64_t)nb; k++) {
		for (i = 0; i < bursts[k].count; i++) {
			struct post *p = &posts[np++];

			p->t = start + bursts[k].offset +
			    (bursts[k].len > 0 ? i * bursts[k].len / bursts[k].count : 0);
			p->text = bursts[k].text;
			p->suffix = tails[rnd() % (sizeof tails / sizeof tails[0])];
			p->seq = (uint32_t)np;
		}
	}
	qsort(posts, np, sizeof *posts, cmp);
	for (i = 0; i < (int64_t)np; i++) {
		const struct post *p = &posts[i];
		int j;

		printf("{\"id\":\"p%" PRId64 "\",\"text\":\"", i + 1);
		json_raw(p->text);
		json_raw(p->suffix);
		printf("\",\"time\":%" PRId64 ",\"platform\":\"%s\",\"region\":\"%s\"",
		    p->t, platforms[rnd() % 4], regions[rnd() % 6]);
		if (pad > 0) {
			printf(",\"pad\":\"");
			for (j = 0; j < pad; j++)
				putchar('a' + (char)(rnd() % 26));
			putchar('"');
		}
		printf("}\n");
	}
	free(posts);
	return 0;
}
