package store

// Priority is one priority, objective or recommendation of a plan.
type Priority struct {
	Record          `bson:",inline" yaml:",inline"`
	PlanID          string           `bson:"planId" yaml:"planId"`
	Number          *string          `bson:"number,omitempty" yaml:"number,omitempty"`
	Title           string           `bson:"title" yaml:"title"`
	Theme           *string          `bson:"theme,omitempty" yaml:"theme,omitempty"`
	Description     *string          `bson:"description,omitempty" yaml:"description,omitempty"`
	SuccessCriteria []string         `bson:"successCriteria" yaml:"successCriteria,omitempty"`
	Updates         []ProgressUpdate `bson:"updates" yaml:"updates,omitempty"`
	IndicatorIDs    []string         `bson:"indicatorIds" yaml:"indicatorIds,omitempty"`
	LeadIDs         []string         `bson:"leadIds" yaml:"leadIds,omitempty"`
}

// ProgressUpdate is a progress report on a priority, kept inside it.
type ProgressUpdate struct {
	Period   *string  `bson:"period,omitempty" yaml:"period,omitempty"`
	Date     *string  `bson:"date,omitempty" yaml:"date,omitempty"`
	Text     string   `bson:"text" yaml:"text"`
	Rag      *string  `bson:"rag,omitempty" yaml:"rag,omitempty"`
	ReportID *string  `bson:"reportId,omitempty" yaml:"reportId,omitempty"`
	Sources  []Source `bson:"sources" yaml:"sources"`
}
