"""Known places for the prefecture tagger: (name, lat, lon, expected JIS code or None).

Coordinates are WGS 84 degrees of well-known sites (stations, city halls, airport
terminals, island interiors, lake centres). Border pairs sit about 1 km either
side of a river or ridge that is the prefecture border, because JMA's outlines
are generalised (edges ~0.7 km); sea points are at least 8 km from any coast.
"""

from __future__ import annotations

Place = tuple[str, float, float, str | None]

CITIES: tuple[Place, ...] = (
    ("Sapporo", 43.0621, 141.3544, "01"),
    ("Asahikawa", 43.7706, 142.3650, "01"),
    ("Kushiro", 42.9849, 144.3820, "01"),
    ("Hakodate station", 41.7735, 140.7264, "01"),
    ("Aomori", 40.8244, 140.7400, "02"),
    ("Hirosaki", 40.6031, 140.4641, "02"),
    ("Morioka", 39.7036, 141.1527, "03"),
    ("Sendai", 38.2682, 140.8694, "04"),
    ("Akita", 39.7186, 140.1024, "05"),
    ("Yamagata", 38.2404, 140.3633, "06"),
    ("Fukushima", 37.7503, 140.4676, "07"),
    ("Koriyama", 37.4006, 140.3597, "07"),
    ("Aizuwakamatsu", 37.4948, 139.9298, "07"),
    ("Mito", 36.3418, 140.4468, "08"),
    ("Tsukuba", 36.0835, 140.0764, "08"),
    ("Utsunomiya", 36.5657, 139.8836, "09"),
    ("Nikko", 36.7199, 139.6982, "09"),
    ("Maebashi", 36.3907, 139.0604, "10"),
    ("Takasaki", 36.3219, 139.0032, "10"),
    ("Saitama Urawa", 35.8617, 139.6455, "11"),
    ("Kawagoe", 35.9251, 139.4858, "11"),
    ("Chiba", 35.6074, 140.1065, "12"),
    ("Narita Airport", 35.7720, 140.3929, "12"),
    ("Shinjuku", 35.6938, 139.7034, "13"),
    ("Hachioji", 35.6664, 139.3160, "13"),
    ("Yokohama", 35.4437, 139.6380, "14"),
    ("Odawara", 35.2564, 139.1552, "14"),
    ("Niigata", 37.9161, 139.0364, "15"),
    ("Toyama", 36.6953, 137.2113, "16"),
    ("Kanazawa", 36.5613, 136.6562, "17"),
    ("Wajima", 37.3906, 136.8992, "17"),
    ("Fukui", 36.0652, 136.2216, "18"),
    ("Kofu", 35.6642, 138.5684, "19"),
    ("Nagano", 36.6513, 138.1810, "20"),
    ("Matsumoto", 36.2380, 137.9720, "20"),
    ("Gifu", 35.4233, 136.7607, "21"),
    ("Takayama", 36.1461, 137.2522, "21"),
    ("Shizuoka", 34.9756, 138.3828, "22"),
    ("Hamamatsu", 34.7108, 137.7261, "22"),
    ("Nagoya", 35.1815, 136.9066, "23"),
    ("Tsu", 34.7303, 136.5086, "24"),
    ("Ise", 34.4875, 136.7093, "24"),
    ("Otsu", 35.0045, 135.8686, "25"),
    ("Kyoto", 35.0116, 135.7681, "26"),
    ("Osaka", 34.6937, 135.5023, "27"),
    ("Kobe", 34.6901, 135.1955, "28"),
    ("Himeji", 34.8151, 134.6854, "28"),
    ("Nara", 34.6851, 135.8048, "29"),
    ("Wakayama", 34.2260, 135.1675, "30"),
    ("Tottori", 35.5011, 134.2351, "31"),
    ("Matsue", 35.4723, 133.0505, "32"),
    ("Okayama", 34.6551, 133.9195, "33"),
    ("Hiroshima", 34.3853, 132.4553, "34"),
    ("Yamaguchi", 34.1785, 131.4737, "35"),
    ("Tokushima", 34.0703, 134.5548, "36"),
    ("Takamatsu", 34.3428, 134.0466, "37"),
    ("Matsuyama", 33.8392, 132.7657, "38"),
    ("Kochi", 33.5597, 133.5311, "39"),
    ("Fukuoka", 33.5904, 130.4017, "40"),
    ("Kitakyushu Kokura", 33.8834, 130.8752, "40"),
    ("Saga", 33.2494, 130.2988, "41"),
    ("Nagasaki", 32.7503, 129.8779, "42"),
    ("Kumamoto", 32.8031, 130.7079, "43"),
    ("Oita", 33.2382, 131.6126, "44"),
    ("Miyazaki", 31.9077, 131.4202, "45"),
    ("Kagoshima", 31.5966, 130.5571, "46"),
    ("Naha", 26.2124, 127.6809, "47"),
)

ISLANDS: tuple[Place, ...] = (
    ("Chichijima", 27.0700, 142.2150, "13"),
    ("Hahajima", 26.6400, 142.1600, "13"),
    ("Minamitorishima", 24.2867, 153.9811, "13"),
    ("Okinotorishima", 20.4253, 136.0811, "13"),
    ("Izu Oshima", 34.7300, 139.4000, "13"),
    ("Miyakejima", 34.0800, 139.5300, "13"),
    ("Hachijojima", 33.1000, 139.8000, "13"),
    ("Sado", 38.0500, 138.4000, "15"),
    ("Oki Dogo", 36.2700, 133.2700, "32"),
    ("Tsushima Kamiagata", 34.5500, 129.3500, "42"),
    ("Iki", 33.7800, 129.7200, "42"),
    ("Goto Fukue", 32.7000, 128.7700, "42"),
    ("Amami Oshima", 28.3000, 129.4000, "46"),
    ("Yakushima", 30.3400, 130.5200, "46"),
    ("Tanegashima", 30.6000, 130.9800, "46"),
    ("Tokunoshima", 27.7700, 128.9700, "46"),
    ("Ishigaki", 24.4300, 124.1900, "47"),
    ("Miyakojima", 24.7600, 125.3300, "47"),
    ("Yonaguni", 24.4550, 123.0000, "47"),
    ("Iriomote", 24.3300, 123.8200, "47"),
    ("Minami-Daito", 25.8500, 131.2400, "47"),
    ("Rishiri", 45.1790, 141.2420, "01"),
    ("Okushiri", 42.1500, 139.4700, "01"),
)

RECLAIMED: tuple[Place, ...] = (
    ("Haneda Airport", 35.5494, 139.7798, "13"),
    ("Odaiba", 35.6267, 139.7750, "13"),
    ("Tokyo Big Sight", 35.6298, 139.7943, "13"),
    ("Tokyo Disneyland (Urayasu)", 35.6329, 139.8804, "12"),
    ("Makuhari Messe", 35.6480, 140.0350, "12"),
    ("Minato Mirai", 35.4570, 139.6320, "14"),
    ("Kansai Airport", 34.4347, 135.2440, "27"),
    ("Yumeshima", 34.6490, 135.3900, "27"),
    ("Kobe Airport", 34.6328, 135.2239, "28"),
    ("Port Island", 34.6650, 135.2100, "28"),
    ("Chubu Centrair", 34.8584, 136.8054, "23"),
    ("Kitakyushu Airport", 33.8459, 131.0348, "40"),
    ("Tokyo port, central breakwater", 35.6000, 139.8000, "13"),
)

LAKES: tuple[Place, ...] = (
    ("Lake Biwa", 35.2500, 136.0800, "25"),
    ("Kasumigaura", 36.0500, 140.4000, "08"),
    ("Inawashiro", 37.4800, 140.1000, "07"),
    ("Lake Suwa", 36.0500, 138.0800, "20"),
    ("Lake Toya", 42.6000, 140.8500, "01"),
)

BORDERS: tuple[Place, ...] = (
    # Tama River: Kamata (Tokyo) / Kawasaki (Kanagawa)
    ("Kamata", 35.5625, 139.7160, "13"),
    ("Kawasaki station", 35.5313, 139.6970, "14"),
    # Edogawa: Koiwa (Tokyo) / Ichikawa (Chiba)
    ("Koiwa", 35.7331, 139.8822, "13"),
    ("Ichikawa", 35.7291, 139.9079, "12"),
    # Arakawa: Akabane (Tokyo) / Kawaguchi (Saitama)
    ("Akabane", 35.7780, 139.7209, "13"),
    ("Kawaguchi", 35.8018, 139.7178, "11"),
    # Tone River: Abiko (Chiba) / Toride (Ibaraki)
    ("Abiko", 35.8724, 140.0107, "12"),
    ("Toride", 35.9116, 140.0502, "08"),
    # Kanzaki River: Tsukamoto (Osaka) / Amagasaki (Hyogo)
    ("Tsukamoto", 34.7178, 135.4586, "27"),
    ("Amagasaki", 34.7196, 135.4227, "28"),
    # Osaka-yama: Yamashina (Kyoto) / Otsu station (Shiga)
    ("Yamashina", 34.9930, 135.8160, "26"),
    ("Otsu station", 35.0032, 135.8650, "25"),
    # Kiso River: Ichinomiya (Aichi) / Kasamatsu (Gifu)
    ("Ichinomiya", 35.3039, 136.8028, "23"),
    ("Kasamatsu", 35.3700, 136.7650, "21"),
    # Chikugo River: Kurume (Fukuoka) / Tosu (Saga)
    ("Kurume", 33.3193, 130.5083, "40"),
    ("Tosu", 33.3775, 130.5178, "41"),
    # Kanmon Strait: Moji (Fukuoka) / Shimonoseki (Yamaguchi)
    ("Moji", 33.9200, 130.9700, "40"),
    ("Shimonoseki Hinoyama", 33.9800, 130.9500, "35"),
    # Chitose River: Yugawara (Kanagawa) / Atami (Shizuoka)
    ("Yugawara", 35.1459, 139.1081, "14"),
    ("Atami", 35.1036, 139.0777, "22"),
    # Ikoma Mountains: Higashiosaka (Osaka) / Ikoma (Nara)
    ("Higashiosaka", 34.6793, 135.6008, "27"),
    ("Ikoma", 34.6919, 135.6995, "29"),
    # Watarase: Ashikaga (Tochigi) / Kiryu (Gunma)
    ("Ashikaga", 36.3403, 139.4497, "09"),
    ("Kiryu", 36.4053, 139.3306, "10"),
    # Edogawa, a few hundred metres either side: Shibamata (Tokyo) / Konodai (Chiba)
    ("Shibamata Taishakuten", 35.7584, 139.8778, "13"),
    ("Satomi Park, Konodai", 35.7485, 139.9000, "12"),
    # Takatsuki (Osaka) / Nagaokakyo (Kyoto)
    ("Takatsuki", 34.8516, 135.6178, "27"),
    ("Nagaokakyo", 34.9268, 135.6955, "26"),
)

NEAR_COAST: tuple[Place, ...] = (
    # At sea, but within 2 km of one prefecture's coast.
    ("off Yuigahama, Kamakura", 35.3000, 139.5450, "14"),
    ("off Enoshima", 35.2900, 139.4800, "14"),
    ("off Cape Muroto", 33.2350, 134.1800, "39"),
)

SEA: tuple[Place, ...] = (
    ("Sagami Bay", 35.22, 139.45, None),
    ("Japan Trench off Sanriku", 37.0, 143.0, None),
    ("Pacific off Boso", 35.0, 141.5, None),
    ("Sea of Japan", 39.0, 135.0, None),
    ("Pacific south of Enshu-nada", 33.0, 138.0, None),
    ("East China Sea", 30.0, 127.0, None),
    ("Pacific off Erimo", 41.0, 144.5, None),
    ("between Izu peninsula and the islands", 34.5, 139.1, None),
    ("Tokyo Bay centre", 35.50, 139.88, None),
    ("Ariake Sea centre", 33.0, 130.32, None),
    ("Philippine Sea", 25.0, 140.0, None),
    ("far Pacific (outside the grid)", 20.0, 150.0, None),
    ("Seoul", 37.5665, 126.9780, None),
    ("Busan", 35.1796, 129.0756, None),
    ("Taipei", 25.0330, 121.5654, None),
    ("Vladivostok", 43.1155, 131.8855, None),
    ("Sydney", -33.8688, 151.2093, None),
    ("null island", 0.0, 0.0, None),
    ("south-west corner of the world", -90.0, -180.0, None),
)

ALL: tuple[Place, ...] = CITIES + ISLANDS + RECLAIMED + LAKES + BORDERS + NEAR_COAST + SEA
