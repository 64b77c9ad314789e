"""Names, places and vocabularies (all GBK-encodable, so every feed can carry them)."""

from __future__ import annotations

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力宇浩凯鹏飞兰琳欣怡晨婷雪佳涵轩博宏志康永国峰云春海燕梅"
# Simplified -> traditional variants that people type into old systems (both are in GBK).
TRADITIONAL = {"陈": "陳", "刘": "劉", "张": "張", "黄": "黃", "赵": "趙", "吴": "吳", "孙": "孫", "郑": "鄭"}

TOWNS = (
    "城厢街道",
    "北干街道",
    "蜀山街道",
    "新塘街道",
    "瓜沥镇",
    "衙前镇",
    "党湾镇",
    "益农镇",
    "楼塔镇",
    "河上镇",
    "戴村镇",
    "进化镇",
)
TOWN_INDEX = {t: i for i, t in enumerate(TOWNS)}
VILLAGE_CHARS = "园梅新家杨石明山峰凰光北岸兴沈凤坞东云大联南村前永桥清湖溪西收长丰河进"

PROGRAMMES_MEANS = ("最低生活保障金", "特困人员救助供养金", "临时救助金")
DANGER_RURAL = "农村危房改造补助"
ELDERLY = "高龄津贴"
DISABLED = "困难残疾人生活补贴"
NURSING = "重度残疾人护理补贴"
FARMLAND = "耕地地力保护补贴"
PROGRAMMES = (*PROGRAMMES_MEANS, DANGER_RURAL, ELDERLY, DISABLED, NURSING, FARMLAND)

EMPLOYER_KINDS = ("人民政府", "中心小学", "卫生院", "农业农村办公室", "综合执法队")
COMPANY_WORDS = "清前永北坞大桥湖溪峰收岸凰兴联"
COMPANY_KINDS = (
    "建筑有限公司",
    "市政工程有限公司",
    "建设工程有限公司",
    "水利工程有限公司",
    "园林绿化有限公司",
)
PROJECT_KINDS = (
    "道路硬化工程",
    "路灯安装工程",
    "河道整治工程",
    "污水管网工程",
    "文化礼堂修缮工程",
    "公厕改造工程",
)
FUNERAL_HOMES = ("萧山区殡仪馆",)
CADRE_POSTS = ("党组织书记", "村委会主任", "报账员")


def village_names(count: int) -> list[str]:
    """Distinct two-character village names + 村, deterministic."""
    names: list[str] = []
    chars = VILLAGE_CHARS
    for i in range(len(chars)):
        for j in range(len(chars)):
            if i != j:
                names.append(chars[i] + chars[j] + "村")
    step = 37  # spread the picks over the name space
    return [names[(k * step) % len(names)] for k in range(count)]
