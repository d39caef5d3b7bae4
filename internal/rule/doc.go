// Package rule is twitchd's persistence rule: it watches the detectors'
// exercise bouts, rest periods, twitches and cramps, together with the
// person's history and logged symptoms, and reports a status per subject
// and body site with the reasons, the numbers behind them and advice that
// follows from the data.
//
// The rule is the one in the article twitchd is built from: twitching at
// rest after demanding exercise is usually benign; if it ceases when
// activity resumes that is a good sign; if it remains persistent, consider
// seeking a medical opinion; if it comes with muscle weakness, clumsiness
// or cramps, consider seeking medical assistance. Persistence is judged in
// time, never from one episode. Statuses (pipeline.Status):
//
//	none                      no twitch episode
//	ceased                    twitching stopped once activity resumed
//	post_exercise             twitching at rest after activity, not yet seen to stop
//	at_rest                   twitching at rest with no activity recorded before it: watch whether it recurs
//	persistent                went on after resuming (an episode after it), continued for hours, or recurred on several days
//	persistent_with_symptoms  persistent with cramps, weakness or logged symptoms; or at_rest with a logged symptom
//
// The Engine processes the detectors' events in time order only up to
// their watermark, so no twitch is counted before the activity around it
// is known. Every reason names its evidence (counts, clock times, rates,
// hours, days) and Assessment.Measures carries the numbers.
//
// Every threshold lives in Config with a documented default (see
// DefaultConfig and README.md). The Engine works on the recording's clock,
// never the wall clock, so a replay gives the same assessments every time.
//
// twitchd measures movement and muscle electrical activity. It is not a
// medical device and does not diagnose; every Assessment carries Notice.
package rule
