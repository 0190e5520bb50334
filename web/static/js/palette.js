// Colours of intensity and tsunami grades.
// "jma": 気象庁「防災気象情報の伝え方」配色 — 震度 1 #F2F2FF … 7 #B40068, as on JMA's
// own maps; 大津波警報 紫, 津波警報 赤, 津波注意報 黄.
// "cb": for colour-blind readers — intensity on a single-hue-order ramp of rising
// darkness (inferno-like, readable by luminance alone) and tsunami grades in
// Okabe–Ito hues; tsunami grades also differ by line width and dash, never by colour only.

export const PALETTES = {
  jma: {
    intensity: {
      "1": "#F2F2FF", "2": "#00AAFF", "3": "#0041FF", "4": "#FAE696", "5-": "#FFE600",
      "5+": "#FF9900", "6-": "#FF2800", "6+": "#A50021", "7": "#B40068",
    },
    tsunami: { major_warning: "#C800FF", warning: "#FF2800", advisory: "#FAF500" },
  },
  cb: {
    intensity: {
      "1": "#FCFFA4", "2": "#F3E55D", "3": "#F8B124", "4": "#EE8015", "5-": "#D9523A",
      "5+": "#B63458", "6-": "#8A226A", "6+": "#5D126E", "7": "#2B0B57",
    },
    tsunami: { major_warning: "#882255", warning: "#D55E00", advisory: "#0072B2" },
  },
};

/** 長周期地震動階級 1–4: yure's own ramp (light to dark violet, readable by luminance
 * alone), the same in both palettes. */
export const LG_COLOURS = { 1: "#EDE7F6", 2: "#B39DDB", 3: "#7E57C2", 4: "#4A148C" };

/** Line style per grade (SVG stroke), the same in both palettes. */
export const TSUNAMI_LINE = {
  major_warning: { width: 7, dash: null },
  warning: { width: 5, dash: null },
  advisory: { width: 3.5, dash: "7 5" },
};

/** Black or white text, whichever reads better on `hex` (WCAG relative luminance). */
export function textOn(hex) {
  const channel = (i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return luminance > 0.179 ? "#000000" : "#FFFFFF";
}
